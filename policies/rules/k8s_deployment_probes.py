"""Team Deployments and StatefulSets (long-running services) have readiness and liveness probes."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_list, props_of
from policies.support.kubernetes import SYSTEM_NAMESPACES, mapping, namespace_of, object_name, pod_spec

SERVICE_TYPES = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"})
PROBES = ("readinessProbe", "livenessProbe")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container of the pod template states a readinessProbe (no traffic before the model is loaded,
    no rollout step before the new pod is ready) and a livenessProbe (a hung server is restarted). The
    platform's own agents in kube-system are exempt."""
    props = props_of(args)
    spec = pod_spec(args.resource_type, props)
    if spec is None or namespace_of(props) in SYSTEM_NAMESPACES:
        return
    label = f"{args.resource_type.rsplit(':', 1)[-1]} '{object_name(args)}'"
    for container in (mapping(c) for c in as_list(spec.get("containers"))):
        missing = [probe for probe in PROBES if not mapping(container.get(probe))]
        if missing:
            report_violation(f"{label} container '{container.get('name', '?')}' has no {' or '.join(missing)}; "
                             f"required: both (e.g. httpGet /ping on the serving port)", None)


RULE = Rule(
    id="k8s-deployment-probes",
    description="Kubernetes Deployments and StatefulSets have readiness and liveness probes.",
    severity="medium",
    control="AWS Well-Architected REL11-BP01",
    kind="resource",
    validate=validate,
    resource_types=SERVICE_TYPES,
    remediation="Serve through the KubernetesServing component (probes on /ping), or add readinessProbe and "
                "livenessProbe to every container.",
)
