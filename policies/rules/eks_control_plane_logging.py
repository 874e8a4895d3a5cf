"""EKS clusters send every control-plane log type to CloudWatch Logs."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_list, display_name, is_unknown, props_of

CLUSTER_TYPES = frozenset({"aws:eks/cluster:Cluster"})
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """enabledClusterLogTypes holds all of api, audit, authenticator, controllerManager, scheduler."""
    enabled = props_of(args).get("enabledClusterLogTypes")
    if is_unknown(enabled) or any(is_unknown(t) for t in as_list(enabled)):
        return
    missing = [t for t in LOG_TYPES if t not in as_list(enabled)]
    if missing:
        report_violation(f"EKS cluster '{display_name(args, 'name')}' does not log {', '.join(missing)}; required: "
                         f"enabledClusterLogTypes {list(LOG_TYPES)}", None)


RULE = Rule(
    id="eks-control-plane-logging",
    description="EKS clusters send every control-plane log type (api, audit, authenticator ...) to CloudWatch.",
    severity="medium",
    control="AWS FSBP EKS.8",
    kind="resource",
    validate=validate,
    resource_types=CLUSTER_TYPES,
    remediation="Set enabled_cluster_log_types to all five types and create the /aws/eks/<name>/cluster log "
                "group (KMS, retention) before the cluster.",
)
