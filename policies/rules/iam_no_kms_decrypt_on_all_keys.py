"""IAM identity policies don't let a principal decrypt with every KMS key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import Statement, identity_statements, resource_covers

DECRYPT_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")
_SAMPLE_KEYS = ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff")


def covers_all_keys(pattern: str) -> bool:
    """Whether a ``Resource`` pattern matches every key (of an account/region at least): ``*``, ``key/*`` ..."""
    parts = pattern.split(":", 5)
    region = parts[3] if len(parts) == 6 and "*" not in parts[3] and "?" not in parts[3] else "eu-west-1"
    account = parts[4] if len(parts) == 6 and "*" not in parts[4] and "?" not in parts[4] else "111122223333"
    return all(resource_covers(pattern, f"arn:aws:kms:{region}:{account}:key/{key}") for key in _SAMPLE_KEYS)


def decrypt_findings(statement: Statement) -> list[str]:
    """The decrypt actions an Allow statement grants on all keys (conditions don't count, as in KMS.1)."""
    if not statement.allows:
        return []
    all_keys = bool(statement.not_resources) or any(covers_all_keys(r) for r in statement.resources)
    return [a for a in DECRYPT_ACTIONS if all_keys and statement.grants(a)]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Report Allow statements granting kms:Decrypt/kms:ReEncryptFrom on every key (boundaries exempt)."""
    for resource, where, index, statement in identity_statements(args.resources, boundaries=False):
        found = decrypt_findings(statement)
        if found:
            report_violation(f"{where}: {statement.label(index)} allows {', '.join(found)} on "
                             f"{', '.join(statement.resources) or 'NotResource'} (every KMS key); allowed: "
                             "decrypt actions only on the ARNs of the keys the workload uses", resource.urn)


RULE = Rule(
    id="iam-no-kms-decrypt-on-all-keys",
    description="IAM identity policies allow kms:Decrypt and kms:ReEncryptFrom only on named keys.",
    severity="high",
    control="AWS FSBP KMS.1, KMS.2",
    kind="stack",
    validate=validate,
    remediation="Scope Resource of kms:Decrypt/kms:ReEncrypt* to the key ARNs (the stack's KMS key outputs).",
)
