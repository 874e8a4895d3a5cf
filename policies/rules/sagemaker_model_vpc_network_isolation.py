"""SageMaker models run in a VPC (subnets and security groups) with network isolation."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, display_name, is_known, props_of
from policies.support.sagemaker import MODEL


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = props_of(args)
    problems = []
    vpc = props.get("vpcConfig")
    if vpc is not UNKNOWN:
        if not isinstance(vpc, dict):
            problems.append("no vpcConfig (its container reaches the internet and AWS outside the VPC)")
        else:
            problems += [f"vpcConfig without {key}" for key in ("subnets", "securityGroupIds")
                         if vpc.get(key) is not UNKNOWN and not vpc.get(key)]
    isolation = props.get("enableNetworkIsolation")
    if isolation is not UNKNOWN and (not is_known(isolation) or isolation is not True):
        problems.append("enableNetworkIsolation is not true")
    if problems:
        report_violation(f"model '{display_name(args, 'name')}': {'; '.join(problems)}; required: vpcConfig with "
                         f"the platform's private subnets and SageMaker security group, enableNetworkIsolation: true",
                         None)


RULE = Rule(
    id="sagemaker-model-vpc-network-isolation",
    description="SageMaker models run in the platform's VPC with network isolation.",
    severity="high",
    control="AWS FSBP SageMaker.5",
    kind="resource",
    validate=validate,
    resource_types=frozenset({MODEL}),
    remediation="Set vpc_config (private subnets, SageMaker security group) and enable_network_isolation=True.",
)
