"""S3 data buckets keep object versions."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    LOG_BUCKET_PURPOSE,
    PURPOSE_TAG,
    UNKNOWN,
    bucket_label,
    buckets_with,
    is_log_bucket,
    is_true,
    props_of,
)

VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
REQUIRED = (f"a BucketVersioning with versioningConfiguration.status='Enabled' (only buckets tagged "
            f"{PURPOSE_TAG}={LOG_BUCKET_PURPOSE} are exempt)")


def _status(config: Any) -> Any:
    """The versioning status, UNKNOWN when not known (the block is required: absent = unknown)."""
    block = props_of(config).get("versioningConfiguration")
    if not isinstance(block, dict):
        return UNKNOWN
    return block.get("status", UNKNOWN)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every bucket except log buckets has versioning Enabled."""
    for bucket, configs in buckets_with(args.resources, VERSIONING_TYPES):
        if is_log_bucket(bucket):
            continue
        statuses = [_status(c) for c in configs]
        if "Enabled" in statuses or UNKNOWN in statuses:
            continue
        inline = props_of(bucket).get("versioning")
        if not configs and isinstance(inline, dict) and is_true(inline.get("enabled")):
            continue
        if not configs:
            report_violation(f"{bucket_label(bucket)} has no versioning config; required: {REQUIRED}",
                             bucket.urn)
        else:
            report_violation(f"{bucket_label(bucket)} has versioning status {statuses[0]!r}; "
                             f"required: {REQUIRED}", configs[0].urn)


RULE = Rule(
    id="s3-bucket-versioning-enabled",
    description="S3 data buckets have versioning enabled (log buckets are exempt).",
    severity="medium",
    control="AWS FSBP S3.14",
    kind="stack",
    validate=validate,
    remediation="Add an s3.BucketVersioning for the bucket with versioning_configuration status 'Enabled'.",
)
