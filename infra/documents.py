"""IAM, KMS and S3 policy documents as plain data (JSON-encoded by the caller with Output.json_dumps)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

Statement = dict[str, Any]

KEY_ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
]
KEY_USE_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
]


def compact_actions(*groups: list[str]) -> list[str]:
    """The actions of several lists once each, without those a wildcard among them already covers
    (`ec2:Describe*` covers `ec2:DescribeSubnets`): policies stay under IAM's size limits."""
    actions = list(dict.fromkeys(a for group in groups for a in group))
    wildcards = [a for a in actions if "*" in a]
    return [a for a in actions if not any(w != a and fnmatchcase(a, w) for w in wildcards)]


MANAGED_POLICY_CHARACTERS = 6144
"""IAM's limit for one customer managed policy (whitespace not counted)."""


def packed(statements: list[Statement], limit: int = MANAGED_POLICY_CHARACTERS) -> list[dict[str, Any]]:
    """The statements, in order, in as few documents as fit `limit` characters each (compact JSON)."""
    documents: list[list[Statement]] = [[]]
    for statement in statements:
        if documents[-1] and _size(document(*documents[-1], statement)) > limit:
            documents.append([])
        documents[-1].append(statement)
    if any(_size(document(*group)) > limit for group in documents):
        raise ValueError(f"a statement alone exceeds {limit} characters")
    return [document(*group) for group in documents]


def _size(policy: dict[str, Any]) -> int:
    return len(json.dumps(policy, separators=(",", ":")))


def document(*statements: Statement) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def key_policy(account_id: str, region: str, via_services: list[str], users: list[str],
               *extra: Statement) -> dict[str, Any]:
    """Least-privilege key policy: the account administers the key; only the named roles (`users`)
    may use it, only through the named AWS services (e.g. S3, SageMaker) in the key's region, and may
    create grants only for AWS resources (the grants SageMaker and S3 make on their behalf).

    The roles are named by `aws:PrincipalArn` rather than in `Principal`, so the key can be created
    before them and keeps naming them if they are re-created (KMS rewrites a deleted principal)."""
    statements: list[Statement] = [
        {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": root(account_id)},
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": "*",
        }
    ]
    if via_services and users:
        through = {
            "StringEquals": {
                "kms:CallerAccount": account_id,
                "kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in via_services],
            },
            "ArnLike": {"aws:PrincipalArn": users},
        }
        statements += [
            {"Sid": "UseThroughServices", "Effect": "Allow", "Principal": {"AWS": root(account_id)},
             "Action": KEY_USE_ACTIONS, "Resource": "*", "Condition": through},
            {"Sid": "GrantsForAwsResources", "Effect": "Allow", "Principal": {"AWS": root(account_id)},
             "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {**through, "Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
    return document(*statements, *extra)


def logs_key_statement(account_id: str, region: str) -> Statement:
    """Lets CloudWatch Logs in this region use the key, only for this account's log groups."""
    return {
        "Sid": "CloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": KEY_USE_ACTIONS,
        "Resource": "*",
        "Condition": {
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"}
        },
    }


def assume_role(service: str, account_id: str) -> dict[str, Any]:
    """Trust policy for an AWS service, limited to calls on behalf of this account (confused deputy)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def tls_only_bucket_policy(bucket_arn: str, *extra: Statement) -> dict[str, Any]:
    """Deny every request that does not use TLS 1.2+ (FSBP S3.5), plus any extra statements."""
    insecure = {
        "DenyInsecureTransport": {"Bool": {"aws:SecureTransport": "false"}},
        "DenyOutdatedTls": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    }
    return document(
        *({"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "s3:*",
           "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": condition}
          for sid, condition in insecure.items()),
        *extra,
    )


def allow(actions: list[str], resources: list[str] | str, sid: str | None = None, **condition: Any) -> Statement:
    statement: Statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid:
        statement["Sid"] = sid
    if condition:
        statement["Condition"] = condition
    return statement


def deny(actions: list[str] | str, resources: list[str] | str, sid: str, **condition: Any) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def in_account(account_id: str) -> dict[str, Any]:
    """The data-perimeter condition of S3 statements: only buckets owned by this account."""
    return {"StringEquals": {"s3:ResourceAccount": account_id}}


def grants_for_aws_resources(keys: list[str] | str, sid: str) -> Statement:
    """`kms:CreateGrant` only for the grants AWS services create on the caller's behalf."""
    return allow(["kms:CreateGrant"], keys, sid=sid, Bool={"kms:GrantIsForAWSResource": "true"})


def principals_of(account_id: str, organization_id: str | None) -> dict[str, dict[str, str]]:
    """Condition: the calling principal belongs to the organisation, or to this account without one."""
    if organization_id:
        return {"StringEquals": {"aws:PrincipalOrgID": organization_id}}
    return {"StringEquals": {"aws:PrincipalAccount": account_id}}


def interface_endpoint_policy(account_id: str, organization_id: str | None) -> dict[str, Any]:
    """An interface endpoint serves only the organisation's (or this account's) principals."""
    return document({"Sid": "OrganisationPrincipals", "Effect": "Allow", "Principal": "*", "Action": "*",
                     "Resource": "*", "Condition": principals_of(account_id, organization_id)})


def gateway_endpoint_policy(service: str, region: str, account_id: str,
                            organization_id: str | None) -> dict[str, Any]:
    """A gateway endpoint (S3, DynamoDB) reaches only the organisation's (or this account's) resources,
    for its principals; S3 also serves ECR's image layers (AWS-owned bucket), without which no image pulls
    through a VPC without internet egress."""
    condition = principals_of(account_id, organization_id)
    resource_key = f"{service}:ResourceAccount" if service == "s3" else "aws:ResourceAccount"
    condition["StringEquals"] |= ({"aws:ResourceOrgID": organization_id} if organization_id
                                  else {resource_key: account_id})
    statements: list[Statement] = [{"Sid": "OrganisationResources", "Effect": "Allow", "Principal": "*",
                                    "Action": f"{service}:*", "Resource": "*", "Condition": condition}]
    if service == "s3":
        statements.append({"Sid": "EcrImageLayers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*"})
    return document(*statements)
