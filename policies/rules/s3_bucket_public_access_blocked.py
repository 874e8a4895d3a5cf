"""S3 buckets block every form of public access."""

from __future__ import annotations

from typing import Any

from policies.rule import Rule
from policies.support import UNKNOWN, BucketCheck, Verdict, is_true, props_of

PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
REQUIRED = "a BucketPublicAccessBlock with " + ", ".join(f"{f}=true" for f in FLAGS)


def _judge(block: Any, bucket: Any) -> Verdict:
    """Every flag true (an absent flag is the provider default, false); UNKNOWN if one is unknown."""
    props = props_of(block)
    if any(props.get(flag) is UNKNOWN for flag in FLAGS):
        return UNKNOWN
    missing = [flag for flag in FLAGS if not is_true(props.get(flag))]
    return f"public access block leaves {', '.join(missing)} unset or false" if missing else None


CHECK = BucketCheck(config_types=PUBLIC_ACCESS_BLOCK_TYPES, missing="public access block",
                    required=lambda bucket: REQUIRED, judge=_judge)

RULE = Rule(
    id="s3-bucket-public-access-blocked",
    description="S3 buckets have a public access block with all four flags enabled.",
    severity="critical",
    control="AWS FSBP S3.8",
    kind="stack",
    validate=CHECK.validate,
    remediation=("Add an s3.BucketPublicAccessBlock for the bucket with block_public_acls, "
                 "block_public_policy, ignore_public_acls and restrict_public_buckets all True."),
)
