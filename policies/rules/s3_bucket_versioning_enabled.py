"""S3 data buckets keep object versions."""

from __future__ import annotations

from typing import Any

from policies.rule import Rule
from policies.support import (
    LOG_BUCKET_EXEMPTION,
    UNKNOWN,
    BucketCheck,
    Verdict,
    is_log_bucket,
    is_true,
    props_of,
)

VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
REQUIRED = f"a BucketVersioning with versioningConfiguration.status='Enabled' (only {LOG_BUCKET_EXEMPTION})"


def _judge(config: Any, bucket: Any) -> Verdict:
    """Status Enabled; UNKNOWN when not known (the block is required: absent means unknown)."""
    block = props_of(config).get("versioningConfiguration")
    status = block.get("status", UNKNOWN) if isinstance(block, dict) else UNKNOWN
    if status == "Enabled" or status is UNKNOWN:
        return None if status == "Enabled" else UNKNOWN
    return f"has versioning status {status!r}"


def _inline_ok(bucket: Any) -> bool:
    """The deprecated inline ``versioning`` argument of the bucket enables versioning."""
    inline = props_of(bucket).get("versioning")
    return isinstance(inline, dict) and is_true(inline.get("enabled"))


CHECK = BucketCheck(config_types=VERSIONING_TYPES, missing="versioning config", required=lambda bucket: REQUIRED,
                    judge=_judge, inline_ok=_inline_ok, exempt=is_log_bucket)

RULE = Rule(
    id="s3-bucket-versioning-enabled",
    description="S3 data buckets have versioning enabled (log buckets are exempt).",
    severity="medium",
    control="NIST 800-53 CP-9, SI-12 (Security Hub S3.14)",
    kind="stack",
    validate=CHECK.validate,
    remediation="Add an s3.BucketVersioning for the bucket with versioning_configuration status 'Enabled'.",
)
