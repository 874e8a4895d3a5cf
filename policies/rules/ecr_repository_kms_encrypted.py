"""ECR repositories are encrypted with a customer-managed KMS key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_list, is_known, is_unknown, props_of

KMS_TYPES = ("KMS", "KMS_DSSE")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    configurations = props_of(args).get("encryptionConfigurations")
    if is_unknown(configurations):
        return
    blocks = [c for c in as_list(configurations) if isinstance(c, dict)]
    problem = "no encryptionConfigurations (AES256 by default)"
    if blocks:
        kind, key = blocks[0].get("encryptionType"), blocks[0].get("kmsKey")
        if is_unknown(kind) or is_unknown(key):
            return
        if kind not in KMS_TYPES:
            problem = f"encryptionType {kind or 'AES256'}"
        elif not (is_known(key) and key):
            problem = f"encryptionType {kind} without kmsKey (the AWS-managed key)"
        elif isinstance(key, str) and key.startswith("alias/aws/"):
            problem = f"the AWS-managed key {key}"
        else:
            return
    report_violation(f"ECR repository '{args.name}' has {problem}; required: encryptionType KMS with a "
                     "customer-managed kmsKey", None)


RULE = Rule(
    id="ecr-repository-kms-encrypted",
    description="ECR repositories are encrypted with a customer-managed KMS key.",
    severity="medium",
    control="NIST 800-53 SC-28, SC-12",
    kind="resource",
    validate=validate,
    resource_types=frozenset({"aws:ecr/repository:Repository"}),
    remediation="Set encryption_configurations=[{'encryption_type': 'KMS', 'kms_key': <key ARN>}].",
)
