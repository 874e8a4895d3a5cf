"""S3 buckets don't use ACLs: the bucket owner owns every object (BucketOwnerEnforced)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    UNKNOWN,
    BucketCheck,
    Verdict,
    bucket_label,
    buckets_with,
    is_known,
    props_of,
)

OWNERSHIP_TYPES = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
ENFORCED = "BucketOwnerEnforced"
PRIVATE = "private"
REQUIRED = (f"an s3.BucketOwnershipControls with objectOwnership={ENFORCED} (ACLs disabled) and no ACL "
            f"other than '{PRIVATE}'")


def _judge(controls: Any, bucket: Any) -> Verdict:
    """objectOwnership is BucketOwnerEnforced (``rule`` is required: absent means unknown)."""
    rule = props_of(controls).get("rule")
    ownership = rule.get("objectOwnership", UNKNOWN) if isinstance(rule, dict) else UNKNOWN
    if ownership is UNKNOWN or ownership == ENFORCED:
        return None if ownership == ENFORCED else UNKNOWN
    return f"has object ownership {ownership!r} (ACLs enabled)"


CHECK = BucketCheck(config_types=OWNERSHIP_TYPES, missing="ownership controls (ACLs stay enabled on buckets "
                    "created before April 2023 or imported)", required=lambda bucket: REQUIRED, judge=_judge)


def _acl_grants(props: dict[str, Any]) -> str | None:
    """What an ACL (inline on the bucket or an s3.BucketAcl) grants beyond 'private', or None."""
    acl = props.get("acl")
    if is_known(acl) and acl != PRIVATE:
        return f"the canned ACL {acl!r}"
    policy = props.get("accessControlPolicy")
    if isinstance(policy, dict) and policy.get("grants"):
        return "ACL grants"
    if isinstance(props.get("grants"), list) and props["grants"]:
        return "ACL grants"
    return None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Ownership controls enforce the bucket owner, and no ACL grants anything."""
    CHECK.validate(args, report_violation)
    for bucket, acls in buckets_with(args.resources, ACL_TYPES):
        for offender, props in [(bucket, props_of(bucket))] + [(a, props_of(a)) for a in acls]:
            grants = _acl_grants(props)
            if grants:
                report_violation(f"{bucket_label(bucket)} is given {grants}; required: {REQUIRED}", offender.urn)


RULE = Rule(
    id="s3-bucket-acls-disabled",
    description="S3 buckets disable ACLs (object ownership BucketOwnerEnforced) and set none.",
    severity="medium",
    control="AWS FSBP S3.12",
    kind="stack",
    validate=validate,
    remediation=("Add an s3.BucketOwnershipControls with rule object_ownership='BucketOwnerEnforced'; grant "
                 "access with IAM and bucket policies, not ACLs."),
)
