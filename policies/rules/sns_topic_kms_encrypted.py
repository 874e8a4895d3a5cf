"""SNS topics are encrypted with a customer-managed KMS key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import is_known, is_unknown, props_of


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    key = props_of(args).get("kmsMasterKeyId")
    if is_unknown(key):
        return
    if not (is_known(key) and key):
        problem = "no kmsMasterKeyId (not encrypted at rest)"
    elif isinstance(key, str) and key.startswith("alias/aws/"):
        problem = f"the AWS-managed key {key} (CloudWatch alarms cannot publish to it)"
    else:
        return
    report_violation(f"SNS topic '{args.name}' has {problem}; required: kmsMasterKeyId of a customer-managed "
                     "key whose policy lets the publishing services use it", None)


RULE = Rule(
    id="sns-topic-kms-encrypted",
    description="SNS topics are encrypted with a customer-managed KMS key.",
    severity="medium",
    control="AWS FSBP SNS.1",
    kind="resource",
    validate=validate,
    resource_types=frozenset({"aws:sns/topic:Topic"}),
    remediation="Set kms_master_key_id to a customer-managed key ARN that admits cloudwatch.amazonaws.com.",
)
