"""IAM, KMS and S3 policy documents as plain data (JSON-encoded by the caller with Output.json_dumps)."""

from __future__ import annotations

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


def document(*statements: Statement) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def key_policy(account_id: str, region: str, via_services: list[str], *extra: Statement) -> dict[str, Any]:
    """Least-privilege key policy: the account administers the key; principals of the account may use
    it only through the named AWS services (e.g. S3, SageMaker) in the key's region."""
    statements: list[Statement] = [
        {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": root(account_id)},
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": "*",
        }
    ]
    if via_services:
        statements.append(
            {
                "Sid": "UseThroughServices",
                "Effect": "Allow",
                "Principal": {"AWS": root(account_id)},
                "Action": KEY_USE_ACTIONS + ["kms:CreateGrant"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in via_services],
                    }
                },
            }
        )
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
