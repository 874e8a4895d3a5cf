"""S3 bucket policies grant nothing to principals outside the organisation's accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import (
    InvalidPolicyDocument,
    Statement,
    as_list,
    is_known,
    is_unknown,
    principal_values,
    props_of,
    provider_account_ids,
    statements,
)

POLICY_TYPES = frozenset({"aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
CONFIG_KEY = "trustedAccounts"
ORG_KEYS = ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths")
"""Conditions that confine any principal to the organisation."""
SOURCE_ORG_KEYS = ("aws:SourceOrgID", "aws:SourceOrgPaths")
"""Conditions that confine a service principal to requests on behalf of the organisation."""
_ACCOUNT = re.compile(r"^(?:arn:aws[a-z-]*:(?:iam|sts)::)?(\d{12})(?::|$)")
ALLOWED = ("principals of the stack's accounts (the aws provider's allowedAccountIds) or of the rule's "
           f"{CONFIG_KEY}; Principal '*' only with {' or '.join(ORG_KEYS)} or aws:PrincipalAccount; service "
           f"principals only with aws:SourceAccount or aws:SourceArn (of a trusted account), "
           f"{' or '.join(SOURCE_ORG_KEYS)}")


def _account(principal: str) -> str | None:
    """The account id of an AWS principal (``123456789012`` or an IAM/STS ARN); None otherwise."""
    match = _ACCOUNT.match(principal)
    return match.group(1) if match else None


def _arn_account(arn: Any) -> Any:
    """The account field of an ARN (``arn:aws:cloudtrail:eu-west-1:111122223333:trail/x``); '' when it has none."""
    if is_unknown(arn):
        return arn
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else ""


def _confined(statement: Statement, keys: tuple[str, ...], account_key: str, arn_key: str | None,
              trusted: frozenset[str] | None) -> bool | None:
    """Whether the conditions confine the statement to the organisation; None when undecidable.

    Confining conditions: an organisation key, the account key with trusted accounts only, or (for
    service principals) ``aws:SourceArn`` naming resources of trusted accounts (an S3 bucket ARN names
    no account, so it does not confine).
    """
    if any(k.lower() in statement.condition_keys for k in keys):
        return True
    accounts = statement.condition_values(account_key)
    accounts += [_arn_account(arn) for arn in statement.condition_values(arn_key)] if arn_key else []
    if not accounts:
        return False
    if any(is_unknown(a) for a in accounts) or (trusted is None and all(accounts)):
        return None
    return trusted is not None and all(a in trusted for a in accounts)


def findings(statement: Statement, trusted: frozenset[str] | None) -> Iterator[str]:
    """What an Allow statement grants outside the organisation's accounts."""
    if not statement.allows:
        return
    if statement.principal is None:
        yield "every principal (NotPrincipal, or no Principal)"
        return
    for principal in principal_values(statement.principal, "AWS"):
        if not isinstance(principal, str) or not is_known(principal):
            continue
        if "*" in principal:
            if _confined(statement, ORG_KEYS, "aws:PrincipalAccount", None, trusted) is False:
                yield f"principal {principal!r} without an organisation condition"
            continue
        account = _account(principal)
        if account is None:
            yield f"principal {principal!r} of an unknown account"
        elif trusted is not None and account not in trusted:
            yield f"principal {principal!r} of account {account}, outside {', '.join(sorted(trusted))}"
    for service in principal_values(statement.principal, "Service"):
        if isinstance(service, str) and _confined(statement, SOURCE_ORG_KEYS, "aws:SourceAccount", "aws:SourceArn",
                                                  trusted) is False:
            yield (f"service principal {service!r} without aws:SourceAccount or aws:SourceArn (of a trusted "
                   "account) or aws:SourceOrgID")
    if principal_values(statement.principal, "CanonicalUser"):
        yield "a CanonicalUser principal (another account's S3 identity)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Each Allow statement of the bucket policy stays within the trusted accounts."""
    document = props_of(args).get("policy")
    if not is_known(document):
        return
    config_accounts = [a for a in as_list((args.get_config() or {}).get(CONFIG_KEY)) if isinstance(a, str)]
    stack_accounts = provider_account_ids(args.provider)
    trusted = None if stack_accounts is None else stack_accounts | frozenset(config_accounts)
    try:
        parsed = statements(document)
    except InvalidPolicyDocument:
        return  # s3-bucket-tls-only reports a policy that isn't JSON
    kind = "bucket policy" if args.resource_type.endswith("BucketPolicy") else "inline bucket policy"
    for index, statement in enumerate(parsed):
        found = list(findings(statement, trusted))
        if found:
            report_violation(f"{kind} '{args.name}' {statement.label(index)} allows {'; '.join(found)}; "
                             f"allowed: {ALLOWED}", None)


RULE = Rule(
    id="s3-bucket-policy-organization-only",
    description="S3 bucket policies grant nothing to principals outside the organisation's accounts.",
    severity="high",
    control="AWS FSBP S3.6",
    kind="resource",
    validate=validate,
    resource_types=POLICY_TYPES,
    remediation=("Name principals of the platform's accounts, add aws:PrincipalOrgID to statements with "
                 "Principal '*', and aws:SourceAccount to statements for service principals."),
    config_schema={CONFIG_KEY: {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{12}$"},
                                "default": [], "description": "Accounts trusted besides the stack's own."}},
)
