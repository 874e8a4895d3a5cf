"""IAM identity policies confine their S3 grants to the organisation's own buckets (a resource perimeter)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import (
    IDENTITY_POLICY_TYPES,
    InvalidPolicyDocument,
    Statement,
    action_covers,
    identity_documents,
    statements,
)

PERIMETER_KEYS = ("s3:ResourceAccount", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths")
ACCOUNT_LEVEL_ACTIONS = ("s3:ListAllMyBuckets", "s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock",
                         "s3:ListAccessPoints", "s3:ListJobs", "s3:ListStorageLensConfigurations",
                         "s3:ListMultiRegionAccessPoints")
"""S3 actions on the account, on no bucket or object (the service authorization reference lists no resource
type for them): exempt."""


def _s3_action(action: str) -> bool:
    """An action pattern that grants S3 actions on buckets or objects (``s3:GetObject``, ``s3:*``, ``*``)."""
    action = action.strip().lower()
    if action in {a.lower() for a in ACCOUNT_LEVEL_ACTIONS}:
        return False
    return action.startswith("s3:") or action_covers(action, "s3:GetObject")


def grants_bucket_access(statement: Statement) -> bool:
    """Whether an Allow statement grants an S3 action on buckets or objects."""
    if not statement.allows:
        return False
    return bool(statement.not_actions) or any(_s3_action(a) for a in statement.actions)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every Allow statement with S3 actions has an s3:ResourceAccount (or aws:Resource*) condition."""
    wanted = {k.lower() for k in PERIMETER_KEYS}
    for where, document in identity_documents(args):
        try:
            parsed = statements(document)
        except InvalidPolicyDocument:
            continue  # iam-no-wildcard-actions reports it
        for index, statement in enumerate(parsed):
            if grants_bucket_access(statement) and not wanted & statement.condition_keys:
                report_violation(
                    f"{where}: {statement.label(index)} allows S3 actions on "
                    f"{', '.join(statement.resources) or 'NotResource'} in any account (a bucket ARN names no "
                    f"account); required: a Condition on {' or '.join(PERIMETER_KEYS)} (e.g. StringEquals "
                    "s3:ResourceAccount: [<the platform's account ids>])", None)


RULE = Rule(
    id="iam-s3-resource-account",
    description="IAM identity policies grant S3 actions only with an s3:ResourceAccount condition.",
    severity="high",
    control="NIST 800-53 AC-4, SC-7 (AWS data perimeter: resource perimeter)",
    kind="resource",
    validate=validate,
    resource_types=IDENTITY_POLICY_TYPES,
    remediation=("Add Condition {'StringEquals': {'s3:ResourceAccount': [<account ids>]}} to every statement "
                 "that allows S3 actions (identity policies and permissions boundaries)."),
)
