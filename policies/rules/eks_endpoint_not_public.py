"""EKS API endpoints are private; a public endpoint only where the environment allows it, from named CIDRs."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import PROD, as_list, display_name, is_known, is_true, is_unknown, props_of, resource_env

CLUSTER_TYPES = frozenset({"aws:eks/cluster:Cluster"})
CONFIG_KEY = "allowPublicEndpoint"
OPEN = ("0.0.0.0/0", "::/0")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """endpointPublicAccess is false, unless the pack config allows it (dev) and the resource is not tagged
    prod, and then publicAccessCidrs must name ranges other than 0.0.0.0/0."""
    vpc = props_of(args).get("vpcConfig")
    if not isinstance(vpc, dict):
        return
    public = vpc.get("endpointPublicAccess")
    if is_unknown(public) or (public is not None and not is_true(public)):
        return
    label = f"EKS cluster '{display_name(args, 'name')}'"   # AWS's default for endpointPublicAccess is true
    allowed = is_true((args.get_config() or {}).get(CONFIG_KEY)) and resource_env(args) != PROD
    if not allowed:
        report_violation(f"{label} has a public API endpoint (endpointPublicAccess is true or unset); required "
                         f"here: endpointPublicAccess=false and endpointPrivateAccess=true", None)
        return
    cidrs = as_list(vpc.get("publicAccessCidrs"))
    if any(is_unknown(c) for c in cidrs):
        return
    if not cidrs or any(c in OPEN for c in cidrs if is_known(c)):
        report_violation(f"{label} has a public API endpoint open to the internet (publicAccessCidrs "
                         f"{cidrs or 'unset = 0.0.0.0/0'}); required: name the CIDRs that may reach it", None)


RULE = Rule(
    id="eks-endpoint-not-public",
    description="EKS API endpoints are private (public only where allowed, and only from named CIDRs).",
    severity="high",
    control="AWS FSBP EKS.1",
    kind="resource",
    validate=validate,
    resource_types=CLUSTER_TYPES,
    remediation="Set vpc_config endpoint_public_access=False and endpoint_private_access=True; reach the API "
                "from inside the VPC (CI runners, a bastion or VPN).",
    config_schema={CONFIG_KEY: {"type": "boolean", "default": False,
                                "description": "Allow a public endpoint restricted to named CIDRs (dev)."}},
)
