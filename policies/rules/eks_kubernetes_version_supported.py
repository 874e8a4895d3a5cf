"""EKS clusters and node groups run a Kubernetes version inside the platform's supported window."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from infra.versions import SUPPORTED_KUBERNETES_VERSIONS
from policies.rule import Rule
from policies.support import as_list, display_name, is_known, props_of

TYPES = frozenset({"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"})
CONFIG_KEY = "supportedVersions"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """`version` is one of the supported versions (unset on a cluster means EKS's moving default)."""
    supported = [str(v) for v in as_list((args.get_config() or {}).get(CONFIG_KEY))] or list(
        SUPPORTED_KUBERNETES_VERSIONS)
    version = props_of(args).get("version")
    kind = "EKS cluster" if args.resource_type.endswith("Cluster") else "node group"
    label = f"{kind} '{display_name(args, 'name', 'nodeGroupName')}'"
    if version is None and kind == "EKS cluster":
        report_violation(f"{label} has no version (EKS picks its default, which moves); required: one of "
                         f"{', '.join(supported)}", None)
    elif is_known(version) and str(version) not in supported:
        report_violation(f"{label} runs Kubernetes {version}; supported: {', '.join(supported)}", None)


RULE = Rule(
    id="eks-kubernetes-version-supported",
    description="EKS clusters and node groups pin a Kubernetes version inside the supported window.",
    severity="medium",
    control="AWS FSBP EKS.2",
    kind="resource",
    validate=validate,
    resource_types=TYPES,
    remediation="Set version to a supported release (infra/versions.py) and upgrade one minor at a time.",
    config_schema={CONFIG_KEY: {"type": "array", "items": {"type": "string"},
                                "description": "Kubernetes minor versions allowed (default: infra/versions.py)."}},
)
