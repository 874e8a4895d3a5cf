"""Scheduled batch transforms (EventBridge Scheduler calling SageMaker CreateTransformJob) write their
results, and use volumes, encrypted with a customer-managed key."""

from __future__ import annotations

import json

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import display_name, is_known, props_of
from policies.support.sagemaker import needs_volume_key

SCHEDULE = "aws:scheduler/schedule:Schedule"
TRANSFORM_TARGET = "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    target = props_of(args).get("target")
    if not isinstance(target, dict) or target.get("arn") != TRANSFORM_TARGET or not is_known(target.get("input")):
        return
    try:
        request = json.loads(target.get("input") or "{}")
    except ValueError:
        report_violation(f"schedule '{display_name(args, 'name')}': its CreateTransformJob input is not JSON", None)
        return
    problems = []
    if not (request.get("TransformOutput") or {}).get("KmsKeyId"):
        problems.append("TransformOutput.KmsKeyId missing")
    resources = request.get("TransformResources") or {}
    if needs_volume_key(str(resources.get("InstanceType", ""))) and not resources.get("VolumeKmsKeyId"):
        problems.append(f"TransformResources.VolumeKmsKeyId missing for {resources.get('InstanceType')}")
    if problems:
        report_violation(f"schedule '{display_name(args, 'name')}' starts transform jobs with "
                         f"{'; '.join(problems)}; required: results and volumes under a customer-managed key", None)


RULE = Rule(
    id="sagemaker-batch-transform-encrypted",
    description="Scheduled batch transforms encrypt their results and volumes with a customer-managed key.",
    severity="high",
    control="NIST 800-53 SC-28(1)",
    kind="resource",
    validate=validate,
    resource_types=frozenset({SCHEDULE}),
    remediation="Use the BatchScoring component (the team's data key for results and volumes).",
)
