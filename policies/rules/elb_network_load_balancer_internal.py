"""Network load balancers are internal: the serving NLBs are reached through API Gateway's VPC link only."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import display_name, is_true, is_unknown, props_of

LOAD_BALANCER_TYPES = frozenset({"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"})


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A load balancer of type `network` states internal=true (AWS's default is internet-facing)."""
    props = props_of(args)
    kind, internal = props.get("loadBalancerType"), props.get("internal")
    if kind != "network" or is_unknown(internal) or is_true(internal):
        return
    report_violation(f"network load balancer '{display_name(args, 'name')}' is internet-facing (internal is "
                     f"{'unset' if internal is None else internal!r}); required: internal=true", None)


RULE = Rule(
    id="elb-network-load-balancer-internal",
    description="Network load balancers are internal, never internet-facing (front doors reach them by VPC link).",
    severity="high",
    control="NIST 800-53 SC-7, AC-4",
    kind="resource",
    validate=validate,
    resource_types=LOAD_BALANCER_TYPES,
    remediation="Set internal=True and put the load balancer in private subnets; callers come in through the "
                "model's API Gateway front door (IAM auth) and its VPC link, never straight to the NLB.",
)
