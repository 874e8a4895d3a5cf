"""Every VPC records its rejected traffic in flow logs."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import display_name, index_links, of_types, props_of

VPC_TYPES = ("aws:ec2/vpc:Vpc", "aws:ec2/defaultVpc:DefaultVpc")
FLOW_LOG_TYPES = ("aws:ec2/flowLog:FlowLog",)
REQUIRED = "an ec2.FlowLog with vpcId=<this VPC> and trafficType ALL or REJECT"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every VPC has a flow log (linked through vpcId) that captures REJECT or ALL traffic."""
    vpcs = of_types(args.resources, VPC_TYPES)
    links = index_links(of_types(args.resources, FLOW_LOG_TYPES), "vpcId", vpcs, match_props=("id",))
    for vpc in vpcs:
        logs = links[vpc.urn]
        label = f"VPC '{display_name(vpc)}'"
        if not logs:
            report_violation(f"{label} has no flow log; required: {REQUIRED}", vpc.urn)
        elif all(props_of(log).get("trafficType") == "ACCEPT" for log in logs):
            report_violation(f"{label} flow logs capture only ACCEPT traffic; required: {REQUIRED}",
                             logs[0].urn)


RULE = Rule(
    id="vpc-flow-logs-enabled",
    description="Every VPC has a flow log capturing rejected (or all) traffic.",
    severity="medium",
    control="AWS FSBP EC2.6",
    kind="stack",
    validate=validate,
    remediation="Add an ec2.FlowLog with vpc_id=vpc.id, traffic_type='ALL' and a KMS-encrypted destination.",
)
