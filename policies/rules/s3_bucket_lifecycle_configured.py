"""S3 buckets have a lifecycle: objects and old versions expire or move to cheaper storage."""

from __future__ import annotations

from typing import Any

from policies.rule import Rule
from policies.support import UNKNOWN, BucketCheck, Verdict, as_list, is_true, props_of

LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
REQUIRED = "an s3.BucketLifecycleConfiguration with at least one rule of status 'Enabled'"


def _judge(config: Any, bucket: Any) -> Verdict:
    """At least one rule is Enabled (``rules`` is required: absent means unknown at preview)."""
    rules = props_of(config).get("rules")
    if rules is None or rules is UNKNOWN:
        return UNKNOWN
    statuses = [r.get("status", UNKNOWN) if isinstance(r, dict) else UNKNOWN for r in as_list(rules)]
    if "Enabled" in statuses:
        return None
    if UNKNOWN in statuses:
        return UNKNOWN
    return "has a lifecycle configuration without an Enabled rule"


def _inline_ok(bucket: Any) -> bool:
    """The deprecated inline ``lifecycleRules`` of the bucket has an enabled rule."""
    rules = as_list(props_of(bucket).get("lifecycleRules"))
    return any(isinstance(r, dict) and is_true(r.get("enabled")) for r in rules)


CHECK = BucketCheck(config_types=LIFECYCLE_TYPES, missing="lifecycle configuration",
                    required=lambda bucket: REQUIRED, judge=_judge, inline_ok=_inline_ok)

RULE = Rule(
    id="s3-bucket-lifecycle-configured",
    description="S3 buckets have a lifecycle configuration with an enabled rule.",
    severity="low",
    control="NIST 800-53 SI-12, CP-10 (Security Hub S3.13)",
    kind="stack",
    validate=CHECK.validate,
    remediation=("Add an s3.BucketLifecycleConfiguration for the bucket (e.g. expire noncurrent versions, "
                 "abort incomplete multipart uploads, tier old objects)."),
)
