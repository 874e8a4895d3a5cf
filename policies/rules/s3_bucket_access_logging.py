"""S3 data buckets log every request to a log bucket (server access logging)."""

from __future__ import annotations

from typing import Any

from policies.rule import Rule
from policies.support import (
    LOG_BUCKET_EXEMPTION,
    UNKNOWN,
    BucketCheck,
    Verdict,
    as_list,
    is_known,
    is_log_bucket,
    is_unknown,
    props_of,
)

LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
REQUIRED = f"an s3.BucketLogging with a targetBucket (a log bucket; {LOG_BUCKET_EXEMPTION}: logs don't log themselves)"


def _judge(config: Any, bucket: Any) -> Verdict:
    """A logging config names a target bucket (it is required: absent means unknown at preview)."""
    target = props_of(config).get("targetBucket")
    if target is None or is_unknown(target):
        return UNKNOWN
    return None if target else "has a logging config with an empty targetBucket"


def _inline_ok(bucket: Any) -> bool:
    """The deprecated inline ``loggings`` (pulumi-aws 7) or ``logging`` argument names a target bucket."""
    props = props_of(bucket)
    entries = as_list(props.get("loggings")) + as_list(props.get("logging"))
    return any(isinstance(e, dict) and is_known(e.get("targetBucket")) and e["targetBucket"] for e in entries)


CHECK = BucketCheck(config_types=LOGGING_TYPES, missing="server access logging", required=lambda bucket: REQUIRED,
                    judge=_judge, inline_ok=_inline_ok, exempt=is_log_bucket)

RULE = Rule(
    id="s3-bucket-access-logging",
    description="S3 data buckets have server access logging to a log bucket (log buckets are exempt).",
    severity="medium",
    control="AWS FSBP S3.9",
    kind="stack",
    validate=CHECK.validate,
    remediation=("Add an s3.BucketLogging for the bucket with target_bucket=<the log bucket> and "
                 "target_prefix='<bucket>/'; tag the log bucket ml-platform/purpose=logs."),
)
