"""The Glue Data Catalog encrypts metadata and connection passwords with a customer-managed KMS key."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, is_known, props_of

SETTINGS_TYPES = frozenset({"aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings"})
KMS_MODES = ("SSE-KMS", "SSE-KMS-WITH-SERVICE-ROLE")
REQUIRED = ("encryptionAtRest.catalogEncryptionMode SSE-KMS with sseAwsKmsKeyId, and "
            "connectionPasswordEncryption.returnConnectionPasswordEncrypted=true with awsKmsKeyId")


def _problems(settings: Any) -> list[str]:
    if settings is UNKNOWN or not isinstance(settings, dict):
        return [] if settings is UNKNOWN else ["no dataCatalogEncryptionSettings"]
    found = []
    at_rest = settings.get("encryptionAtRest")
    if isinstance(at_rest, dict):
        mode, key = at_rest.get("catalogEncryptionMode"), at_rest.get("sseAwsKmsKeyId")
        if mode is not UNKNOWN and mode not in KMS_MODES:
            found.append(f"catalogEncryptionMode {mode!r}")
        elif mode in KMS_MODES and key is not UNKNOWN and not (is_known(key) and key):
            found.append("catalogEncryptionMode SSE-KMS without sseAwsKmsKeyId (the AWS-managed key)")
    elif at_rest is not UNKNOWN:
        found.append("no encryptionAtRest")
    passwords = settings.get("connectionPasswordEncryption")
    if isinstance(passwords, dict):
        returned, key = passwords.get("returnConnectionPasswordEncrypted"), passwords.get("awsKmsKeyId")
        if returned is not UNKNOWN and returned is not True:
            found.append("connection passwords returned in clear text")
        elif returned is True and key is not UNKNOWN and not (is_known(key) and key):
            found.append("connection passwords without awsKmsKeyId")
    elif passwords is not UNKNOWN:
        found.append("no connectionPasswordEncryption")
    return found


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    found = _problems(props_of(args).get("dataCatalogEncryptionSettings"))
    if found:
        report_violation(f"Glue catalog encryption '{args.name}': {'; '.join(found)}; required: {REQUIRED}", None)


RULE = Rule(
    id="glue-catalog-kms-encrypted",
    description="The Glue Data Catalog encrypts metadata and connection passwords with a customer-managed KMS key.",
    severity="high",
    control="NIST 800-53 SC-12, SC-28(1)",
    kind="resource",
    validate=validate,
    resource_types=SETTINGS_TYPES,
    remediation=("Set encryption_at_rest (SSE-KMS, sse_aws_kms_key_id) and connection_password_encryption "
                 "(return_connection_password_encrypted=True, aws_kms_key_id) on glue.DataCatalogEncryptionSettings."),
)
