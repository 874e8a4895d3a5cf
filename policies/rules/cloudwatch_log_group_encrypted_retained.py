"""CloudWatch log groups are KMS-encrypted and expire."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_number, is_known, is_unknown, props_of

LOG_GROUP_TYPES = frozenset({"aws:cloudwatch/logGroup:LogGroup"})
MIN_RETENTION_DEFAULT = 1
CONFIG_KEY = "minRetentionDays"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """kmsKeyId is set, and retentionInDays is set (not 0 = forever) and >= minRetentionDays."""
    props = props_of(args)
    minimum = as_number((args.get_config() or {}).get(CONFIG_KEY)) or MIN_RETENTION_DEFAULT
    problems = []
    key = props.get("kmsKeyId")
    if not is_unknown(key) and not (is_known(key) and key):
        problems.append("no kmsKeyId")
    retention = props.get("retentionInDays")
    days = as_number(retention)
    if not is_unknown(retention) and (days is None or days <= 0):
        problems.append("no retentionInDays (kept forever)")
    elif days is not None and days < minimum:
        problems.append(f"retentionInDays={days:g} (< {minimum:g})")
    if problems:
        report_violation(f"log group '{args.name}' has {' and '.join(problems)}; required: kmsKeyId "
                         f"(a customer-managed KMS key ARN) and retentionInDays >= {minimum:g}", None)


RULE = Rule(
    id="cloudwatch-log-group-encrypted-retained",
    description="CloudWatch log groups are encrypted with a KMS key and have a retention period.",
    severity="medium",
    control="NIST 800-53 AU-11, SC-28 (Security Hub CloudWatch.16)",
    kind="resource",
    validate=validate,
    resource_types=LOG_GROUP_TYPES,
    remediation="Set kms_key_id=<KMS key ARN> and retention_in_days on the cloudwatch.LogGroup.",
    config_schema={CONFIG_KEY: {"type": "integer", "minimum": 1, "default": MIN_RETENTION_DEFAULT,
                                "description": "Smallest retentionInDays accepted."}},
)
