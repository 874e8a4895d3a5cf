"""S3 buckets refuse requests that don't use TLS."""

from __future__ import annotations

from typing import Any

from policies.rule import Rule
from policies.support import (
    UNKNOWN,
    BucketCheck,
    InvalidPolicyDocument,
    Statement,
    Verdict,
    action_covers,
    as_list,
    parse_policy_document,
    principal_values,
    props_of,
    statements,
)

BUCKET_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
REQUIRED = ("a bucket policy statement Effect=Deny, Principal='*', Action='s3:*', "
            "Condition Bool aws:SecureTransport=false")


def _any_principal(principal: Any) -> bool:
    return "*" in principal_values(principal, "AWS")


def _denies_insecure_transport(condition: Any) -> bool:
    for operator in ("Bool", "BoolIfExists"):
        block = condition.get(operator)
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            if key.lower() == "aws:securetransport" and any(
                    v is False or str(v).lower() == "false" for v in as_list(value)):
                return True
    return False


def is_tls_only_statement(statement: Statement) -> bool:
    """Deny, to everyone, every S3 action, when aws:SecureTransport is false."""
    return (statement.effect == "Deny"
            and _any_principal(statement.principal)
            and any(action_covers(a, "s3:*") for a in statement.actions)
            and _denies_insecure_transport(statement.condition))


def _verdict(document: Any) -> Verdict:
    """None when the document enforces TLS, UNKNOWN if undecidable, else what is wrong."""
    try:
        parsed = parse_policy_document(document)
    except InvalidPolicyDocument as error:
        return f"has a bucket policy that is {error}"
    if parsed is None or parsed is UNKNOWN:
        return UNKNOWN
    if any(is_tls_only_statement(s) for s in statements(parsed)):
        return None
    return "has a bucket policy without a deny on aws:SecureTransport=false"


CHECK = BucketCheck(
    config_types=BUCKET_POLICY_TYPES,
    missing="bucket policy",
    required=lambda bucket: REQUIRED,
    judge=lambda policy, bucket: _verdict(props_of(policy).get("policy")),
    inline_ok=lambda bucket: _verdict(props_of(bucket).get("policy")) is None,  # deprecated inline policy
)


RULE = Rule(
    id="s3-bucket-tls-only",
    description="S3 buckets have a bucket policy that denies requests not made over TLS.",
    severity="high",
    control="AWS FSBP S3.5",
    kind="stack",
    validate=CHECK.validate,
    remediation=("Add an s3.BucketPolicy with a statement Deny / Principal '*' / Action 's3:*' on the "
                 "bucket and its objects, Condition {'Bool': {'aws:SecureTransport': 'false'}}."),
)
