"""SageMaker feature groups encrypt their online and offline stores with a customer-managed KMS key."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, display_name, is_known, is_true, props_of

FEATURE_GROUP_TYPES = frozenset({"aws:sagemaker/featureGroup:FeatureGroup"})
REQUIRED = ("onlineStoreConfig.securityConfig.kmsKeyId and offlineStoreConfig.s3StorageConfig.kmsKeyId set to a "
            "customer-managed KMS key")


def _key_problem(config: Any, path: tuple[str, ...], store: str) -> str | None:
    """What is wrong with the store's key, or None (also when it cannot be known yet)."""
    value: Any = config
    for key in path:
        if value is UNKNOWN:
            return None
        value = value.get(key) if isinstance(value, dict) else None
    if value is UNKNOWN:
        return None
    if not is_known(value) or not value:
        return f"its {store} store has no {'.'.join(path)} (AWS-owned key)"
    if "alias/aws/" in str(value):
        return f"its {store} store uses the AWS-managed key {value!r}"
    return None


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = props_of(args)
    problems = []
    online = props.get("onlineStoreConfig")
    if isinstance(online, dict) and is_true(online.get("enableOnlineStore")):
        problems.append(_key_problem(online, ("securityConfig", "kmsKeyId"), "online"))
    offline = props.get("offlineStoreConfig")
    if isinstance(offline, dict):
        problems.append(_key_problem(offline, ("s3StorageConfig", "kmsKeyId"), "offline"))
    found = [p for p in problems if p]
    if found:
        name = display_name(args, "featureGroupName")
        report_violation(f"feature group '{name}': {'; '.join(found)}; required: {REQUIRED}", None)


RULE = Rule(
    id="sagemaker-feature-group-kms-encrypted",
    description="SageMaker feature groups encrypt their online and offline stores with a customer-managed KMS key.",
    severity="high",
    control="NIST 800-53 SC-12, SC-28(1)",
    kind="resource",
    validate=validate,
    resource_types=FEATURE_GROUP_TYPES,
    remediation=("Set online_store_config.security_config.kms_key_id and offline_store_config.s3_storage_config."
                 "kms_key_id to the team's data key ARN."),
)
