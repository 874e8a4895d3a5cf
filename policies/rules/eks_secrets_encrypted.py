"""EKS clusters envelope-encrypt Kubernetes secrets with a KMS key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_list, display_name, is_known, is_unknown, props_of

CLUSTER_TYPES = frozenset({"aws:eks/cluster:Cluster"})


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """encryptionConfig.resources contains "secrets" and encryptionConfig.provider.keyArn is set."""
    config = props_of(args).get("encryptionConfig")
    if is_unknown(config):
        return
    config = config if isinstance(config, dict) else {}
    resources = as_list(config.get("resources"))
    key = (config.get("provider") or {}).get("keyArn") if isinstance(config.get("provider"), dict) else None
    if any(is_unknown(r) for r in resources):
        return
    if "secrets" in resources and (is_unknown(key) or (is_known(key) and key)):
        return
    report_violation(f"EKS cluster '{display_name(args, 'name')}' does not encrypt Kubernetes secrets with a KMS "
                     f"key; required: encryptionConfig {{resources: [secrets], provider: {{keyArn: <KMS key>}}}}",
                     None)


RULE = Rule(
    id="eks-secrets-encrypted",
    description="EKS clusters envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    severity="high",
    control="AWS FSBP EKS.3",
    kind="resource",
    validate=validate,
    resource_types=CLUSTER_TYPES,
    remediation="Set encryption_config={'resources': ['secrets'], 'provider': {'key_arn': key.arn}}.",
)
