"""S3 buckets block every form of public access."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, bucket_label, buckets_with, is_true, props_of

PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
REQUIRED = "a BucketPublicAccessBlock with " + ", ".join(f"{f}=true" for f in FLAGS)


def _missing_flags(block) -> list[str] | None:
    """Flags not set to true (absent = provider default false); None if one is unknown instead."""
    props = props_of(block)
    if any(props.get(flag) is UNKNOWN for flag in FLAGS):
        return None
    return [flag for flag in FLAGS if not is_true(props.get(flag))]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every bucket has a public access block with all four flags true."""
    for bucket, blocks in buckets_with(args.resources, PUBLIC_ACCESS_BLOCK_TYPES):
        if not blocks:
            report_violation(f"{bucket_label(bucket)} has no public access block; required: {REQUIRED}",
                             bucket.urn)
            continue
        missing = [_missing_flags(b) for b in blocks]
        if any(m is None or not m for m in missing):
            continue
        report_violation(f"{bucket_label(bucket)} public access block leaves "
                         f"{', '.join(missing[0])} unset or false; required: {REQUIRED}", blocks[0].urn)


RULE = Rule(
    id="s3-bucket-public-access-blocked",
    description="S3 buckets have a public access block with all four flags enabled.",
    severity="critical",
    control="AWS FSBP S3.8",
    kind="stack",
    validate=validate,
    remediation=("Add an s3.BucketPublicAccessBlock for the bucket with block_public_acls, "
                 "block_public_policy, ignore_public_acls and restrict_public_buckets all True."),
)
