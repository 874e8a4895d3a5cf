"""Every namespace the stack creates has a ResourceQuota."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import is_known, of_types, props_of
from policies.support.kubernetes import NAMESPACE, RESOURCE_QUOTA, namespace_of


def _name(resource) -> str | None:
    metadata = props_of(resource).get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and is_known(name) else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A ResourceQuota whose metadata.namespace is the namespace's name, with the same Kubernetes provider."""
    quotas = of_types(args.resources, (RESOURCE_QUOTA,))
    for namespace in of_types(args.resources, (NAMESPACE,)):
        name = _name(namespace)
        if name is None:
            continue
        provider = getattr(namespace.provider, "urn", None)
        if not any(namespace_of(props_of(q)) == name and getattr(q.provider, "urn", None) == provider
                   for q in quotas):
            report_violation(f"namespace '{name}' has no ResourceQuota; required: a ResourceQuota in it limiting "
                             f"requests.cpu, requests.memory and requests.nvidia.com/gpu", namespace.urn)


RULE = Rule(
    id="k8s-namespace-resource-quota",
    description="Every Kubernetes namespace the stack creates has a ResourceQuota.",
    severity="medium",
    control="NIST 800-53 SC-6",
    kind="stack",
    validate=validate,
    remediation="Create the namespace through the Tenancy component, or add a ResourceQuota with "
                "requests.cpu, requests.memory and requests.nvidia.com/gpu.",
)
