"""In prod, every endpoint releases blue/green and rolls back by itself when one of its alarms fires."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import display_name, is_unknown, props_of, resource_env
from policies.support.sagemaker import ENDPOINT


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if resource_env(args) != "prod":
        return
    deployment = props_of(args).get("deploymentConfig")
    if is_unknown(deployment):
        return
    problems = []
    if not isinstance(deployment, dict) or not deployment.get("blueGreenUpdatePolicy"):
        problems.append("no blue/green update policy")
    alarms = deployment.get("autoRollbackConfiguration", {}).get("alarms") if isinstance(deployment, dict) else None
    if not is_unknown(alarms) and not [a for a in alarms or [] if isinstance(a, dict) and a.get("alarmName")]:
        problems.append("no alarms in autoRollbackConfiguration")
    if problems:
        report_violation(f"endpoint '{display_name(args, 'name')}' in prod: {'; '.join(problems)}; required: "
                         f"deploymentConfig with a blueGreenUpdatePolicy and autoRollbackConfiguration alarms", None)


RULE = Rule(
    id="sagemaker-prod-endpoint-auto-rollback",
    description="Prod endpoints release blue/green and roll back automatically on CloudWatch alarms.",
    severity="high",
    control="AWS Well-Architected OPS06-BP04",
    kind="resource",
    validate=validate,
    resource_types=frozenset({ENDPOINT}),
    remediation="Use the SageMakerEndpoint component (canary or linear rollout, 5xx and latency alarms).",
)
