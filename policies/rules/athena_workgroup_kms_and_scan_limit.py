"""Athena workgroups enforce KMS-encrypted results and a bytes-scanned limit per query."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, as_number, is_known, props_of

WORKGROUP_TYPES = frozenset({"aws:athena/workgroup:Workgroup"})
KMS_OPTIONS = ("SSE_KMS", "CSE_KMS")
REQUIRED = ("configuration.enforceWorkgroupConfiguration=true, resultConfiguration.encryptionConfiguration "
            "SSE_KMS or CSE_KMS with kmsKeyArn, and bytesScannedCutoffPerQuery")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = props_of(args).get("configuration")
    if config is UNKNOWN:
        return
    config = config if isinstance(config, dict) else {}
    found = []
    enforce = config.get("enforceWorkgroupConfiguration")
    if enforce is not UNKNOWN and enforce is False:
        found.append("enforceWorkgroupConfiguration=false (clients may override encryption and location)")
    limit = config.get("bytesScannedCutoffPerQuery")
    if limit is not UNKNOWN and as_number(limit) is None:
        found.append("no bytesScannedCutoffPerQuery")
    results = config.get("resultConfiguration")
    encryption = results.get("encryptionConfiguration") if isinstance(results, dict) else None
    if results is not UNKNOWN and encryption is not UNKNOWN:
        option = encryption.get("encryptionOption") if isinstance(encryption, dict) else None
        key = encryption.get("kmsKeyArn") if isinstance(encryption, dict) else None
        if option is not UNKNOWN and option not in KMS_OPTIONS:
            found.append(f"results encrypted with {option!r}" if option else "unencrypted results")
        elif option in KMS_OPTIONS and key is not UNKNOWN and not (is_known(key) and key):
            found.append(f"{option} results without kmsKeyArn")
    if found:
        report_violation(f"Athena workgroup '{props_of(args).get('name') or args.name}': {'; '.join(found)}; "
                         f"required: {REQUIRED}", None)


RULE = Rule(
    id="athena-workgroup-kms-and-scan-limit",
    description="Athena workgroups enforce KMS-encrypted query results and a bytes-scanned limit per query.",
    severity="medium",
    control="NIST 800-53 SC-28(1); AWS Well-Architected COST02-BP05",
    kind="resource",
    validate=validate,
    resource_types=WORKGROUP_TYPES,
    remediation=("Set configuration.enforce_workgroup_configuration=True, bytes_scanned_cutoff_per_query, and "
                 "result_configuration.encryption_configuration (SSE_KMS, kms_key_arn) on athena.Workgroup."),
)
