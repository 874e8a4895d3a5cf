"""Every VPC's default security group is adopted and emptied: it allows no traffic."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import as_list, display_name, index_links, is_unknown, linked_targets, of_types, props_of

VPC_TYPES = ("aws:ec2/vpc:Vpc",)
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
RULE_TYPES = (
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)
REQUIRED = ("an ec2.DefaultSecurityGroup with vpcId=<this VPC> and no ingress or egress rules (AWS's default "
            "group allows all traffic between its members and all egress)")


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each VPC adopts its default security group, which has no rules, inline or separate."""
    vpcs = of_types(args.resources, VPC_TYPES)
    defaults = of_types(args.resources, (DEFAULT_SG,))
    links = index_links(defaults, "vpcId", vpcs, match_props=("id",))
    for vpc in vpcs:
        if not links[vpc.urn]:
            report_violation(f"VPC '{display_name(vpc)}' leaves its default security group unmanaged (open); "
                             f"required: {REQUIRED}", vpc.urn)
    for group in defaults:
        props = props_of(group)
        opened = [d for d in ("ingress", "egress") if not is_unknown(props.get(d)) and as_list(props.get(d))]
        if opened:
            report_violation(f"default security group '{group.name}' has {' and '.join(opened)} rules; "
                             f"required: {REQUIRED}", group.urn)
    for rule in of_types(args.resources, RULE_TYPES):
        if linked_targets(rule, "securityGroupId", defaults, match_props=("id",)):
            report_violation(f"security group rule '{rule.name}' opens a default security group; "
                             f"required: {REQUIRED}", rule.urn)


RULE = Rule(
    id="vpc-default-security-group-closed",
    description="Every VPC's default security group is managed and allows no inbound or outbound traffic.",
    severity="high",
    control="AWS FSBP EC2.2",
    kind="stack",
    validate=validate,
    remediation="Add an ec2.DefaultSecurityGroup(vpc_id=vpc.id) without ingress/egress; use dedicated groups.",
)
