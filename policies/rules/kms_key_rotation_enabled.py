"""Symmetric KMS keys rotate their key material."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, is_known, is_true, props_of

KEY_TYPES = frozenset({"aws:kms/key:Key"})
SYMMETRIC_SPEC = "SYMMETRIC_DEFAULT"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Symmetric encryption keys (the default spec and usage) set enableKeyRotation=true."""
    props = props_of(args)
    spec = props.get("customerMasterKeySpec", SYMMETRIC_SPEC)
    usage = props.get("keyUsage", ENCRYPT_DECRYPT)
    rotation = props.get("enableKeyRotation")
    if UNKNOWN in (spec, usage, rotation):
        return
    if spec != SYMMETRIC_SPEC or usage != ENCRYPT_DECRYPT:
        return  # asymmetric and HMAC keys can't rotate automatically
    if is_known(props.get("customKeyStoreId")):
        return  # keys in custom key stores (CloudHSM/XKS) can't rotate automatically
    if not is_true(rotation):
        report_violation(f"KMS key '{args.name}' ({SYMMETRIC_SPEC}, {ENCRYPT_DECRYPT}) has "
                         f"enableKeyRotation={'unset' if rotation is None else rotation}; "
                         "required: enableKeyRotation=true on symmetric encryption keys", None)


RULE = Rule(
    id="kms-key-rotation-enabled",
    description="Symmetric KMS keys have automatic key rotation enabled.",
    severity="medium",
    control="CIS AWS v3.0.0 3.6 (Security Hub KMS.4)",
    kind="resource",
    validate=validate,
    resource_types=KEY_TYPES,
    remediation="Set enable_key_rotation=True on the kms.Key.",
)
