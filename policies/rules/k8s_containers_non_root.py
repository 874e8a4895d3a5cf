"""Containers are not privileged and do not run as root."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_number, is_true, is_unknown, props_of
from policies.support.kubernetes import (
    SYSTEM_NAMESPACES,
    WORKLOAD_TYPES,
    containers,
    mapping,
    namespace_of,
    object_name,
    pod_spec,
)

DAEMONSET = "kubernetes:apps/v1:DaemonSet"


def _runs_as_root(pod: dict[str, Any], container: dict[str, Any]) -> bool | None:
    """True/False, or None when unknown. The container's settings win over the pod's."""
    def pick(key: str) -> Any:
        value = container.get(key)
        return pod.get(key) if value is None else value
    user, non_root = pick("runAsUser"), pick("runAsNonRoot")
    if is_unknown(user) or is_unknown(non_root):
        return None
    uid = as_number(user)
    if uid is not None:
        return uid == 0
    return not is_true(non_root)   # no uid and no runAsNonRoot: the image decides (often root)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No container with securityContext.privileged or allowPrivilegeEscalation true; every container runs
    with runAsNonRoot (or a non-zero runAsUser). Node agents (DaemonSets in kube-system: the device plugin,
    DCGM) are the platform's and exempt; teams cannot deploy there."""
    props = props_of(args)
    spec = pod_spec(args.resource_type, props)
    if spec is None or (args.resource_type == DAEMONSET and namespace_of(props) in SYSTEM_NAMESPACES):
        return
    pod = mapping(spec.get("securityContext"))
    label = f"{args.resource_type.rsplit(':', 1)[-1]} '{object_name(args)}'"
    for container in containers(spec):
        context = mapping(container.get("securityContext"))
        name = container.get("name", "?")
        if is_true(context.get("privileged")):
            report_violation(f"{label} container '{name}' is privileged; required: privileged=false", None)
        if is_true(context.get("allowPrivilegeEscalation")):
            report_violation(f"{label} container '{name}' allows privilege escalation; required: "
                             f"allowPrivilegeEscalation=false", None)
        if _runs_as_root(pod, context):
            report_violation(f"{label} container '{name}' may run as root; required: runAsNonRoot=true (pod or "
                             f"container securityContext) or a non-zero runAsUser", None)


RULE = Rule(
    id="k8s-containers-non-root",
    description="Kubernetes containers are not privileged and do not run as root.",
    severity="high",
    control="CIS AWS EKS 4.2.1, 4.2.6",
    kind="resource",
    validate=validate,
    resource_types=WORKLOAD_TYPES,
    remediation="Set securityContext runAsNonRoot=true (or runAsUser>0), privileged=false and "
                "allowPrivilegeEscalation=false; build images with a non-root USER.",
)
