"""S3 buckets are encrypted at rest with a customer-managed KMS key."""

from __future__ import annotations

from typing import Any

from policies.rule import Rule
from policies.support import (
    UNKNOWN,
    BucketCheck,
    Verdict,
    as_list,
    is_known,
    is_log_bucket,
    props_of,
)

SSE_CONFIG_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
LOG_BUCKET_ALGORITHMS = KMS_ALGORITHMS + ("AES256",)
REQUIRED = "sseAlgorithm aws:kms or aws:kms:dsse with a kmsMasterKeyId (customer-managed KMS key)"
REQUIRED_LOGS = ("sseAlgorithm AES256, aws:kms or aws:kms:dsse (log buckets may use AES256: "
                 "S3 server access logs can't be delivered to SSE-KMS buckets)")


def _assess(default: Any, log_bucket: bool) -> str | None | Any:
    """None when compliant, UNKNOWN when undecidable, else what is wrong."""
    if default is None:
        return "no applyServerSideEncryptionByDefault"
    if not isinstance(default, dict):
        return UNKNOWN
    algorithm, key_id = default.get("sseAlgorithm"), default.get("kmsMasterKeyId")
    if algorithm is UNKNOWN or (algorithm is None and "sseAlgorithm" not in default):
        return UNKNOWN
    if log_bucket:
        return None if algorithm in LOG_BUCKET_ALGORITHMS else f"sseAlgorithm {algorithm!r}"
    if algorithm not in KMS_ALGORITHMS:
        return f"sseAlgorithm {algorithm!r}"
    if key_id is UNKNOWN:
        return UNKNOWN
    if not is_known(key_id) or not key_id:
        return f"sseAlgorithm {algorithm!r} without kmsMasterKeyId (the AWS-managed aws/s3 key)"
    if "alias/aws/" in str(key_id):
        return f"the AWS-managed key {key_id!r}"
    return None


def _judge(config: Any, log_bucket: bool) -> Verdict:
    """Verdict for one encryption config resource: any compliant rule wins, then unknown."""
    rules = props_of(config).get("rules")
    if rules is None or rules is UNKNOWN:  # `rules` is required: absent means unknown at preview
        return UNKNOWN
    verdicts = [_assess(r.get("applyServerSideEncryptionByDefault") if isinstance(r, dict) else UNKNOWN,
                        log_bucket) for r in as_list(rules)]
    if not verdicts:
        return "is encrypted with an empty rules list"
    if None in verdicts:
        return None
    if UNKNOWN in verdicts:
        return UNKNOWN
    return f"is encrypted with {verdicts[0]}"


def _inline_ok(bucket: Any) -> bool:
    """The deprecated inline ``serverSideEncryptionConfiguration`` of the bucket is compliant."""
    inline = props_of(bucket).get("serverSideEncryptionConfiguration")
    if not isinstance(inline, dict) or not isinstance(inline.get("rule"), dict):
        return False
    return _assess(inline["rule"].get("applyServerSideEncryptionByDefault"), is_log_bucket(bucket)) is None


CHECK = BucketCheck(
    config_types=SSE_CONFIG_TYPES,
    missing="server-side encryption config",
    required=lambda bucket: REQUIRED_LOGS if is_log_bucket(bucket) else REQUIRED,
    judge=lambda config, bucket: _judge(config, is_log_bucket(bucket)),
    inline_ok=_inline_ok,
)


RULE = Rule(
    id="s3-bucket-kms-encryption",
    description="S3 buckets are encrypted at rest with a customer-managed KMS key (log buckets: SSE-S3 or KMS).",
    severity="high",
    control="NIST 800-53 SC-12, SC-28(1) (Security Hub S3.17)",
    kind="stack",
    validate=CHECK.validate,
    remediation=("Add an s3.BucketServerSideEncryptionConfiguration for the bucket with "
                 "sse_algorithm='aws:kms' and kms_master_key_id=<the team's KMS key ARN>."),
)
