"""Every container of a Kubernetes workload states CPU and memory requests and a memory limit."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import is_unknown, props_of
from policies.support.kubernetes import GPU_RESOURCE, WORKLOAD_TYPES, containers, mapping, object_name, pod_spec

REQUIRED = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """requests.cpu and requests.memory (the scheduler and the quota count them), limits.memory (a leak
    is OOM-killed in its own pod, not on its neighbours); a container asking for GPUs states them as a
    limit. A CPU limit is not required: it throttles without protecting neighbours (requests do)."""
    props = props_of(args)
    spec = pod_spec(args.resource_type, props)
    if spec is None:
        return
    label = f"{args.resource_type.rsplit(':', 1)[-1]} '{object_name(args)}'"
    for container in containers(spec):
        resources = mapping(container.get("resources"))
        if is_unknown(container.get("resources")):
            continue
        missing = [f"{kind}.{name}" for kind, name in REQUIRED if mapping(resources.get(kind)).get(name) is None]
        if mapping(resources.get("requests")).get(GPU_RESOURCE) is not None \
                and mapping(resources.get("limits")).get(GPU_RESOURCE) is None:
            missing.append(f"limits.{GPU_RESOURCE}")
        if missing:
            report_violation(f"{label} container '{container.get('name', '?')}' states no {', '.join(missing)}; "
                             f"required: cpu and memory requests and a memory limit", None)


RULE = Rule(
    id="k8s-container-resources",
    description="Kubernetes containers state CPU and memory requests and a memory limit.",
    severity="medium",
    control="NIST 800-53 SC-6",
    kind="resource",
    validate=validate,
    resource_types=WORKLOAD_TYPES,
    remediation="Set resources.requests.cpu, resources.requests.memory and resources.limits.memory on every "
                "container (init containers too).",
)
