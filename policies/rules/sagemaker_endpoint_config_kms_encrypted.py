"""SageMaker endpoint configurations encrypt their volumes and captured data with a customer-managed key."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, display_name, is_known, props_of
from policies.support.sagemaker import ENDPOINT_CONFIG, needs_volume_key

REQUIRED = ("kmsKeyArn (unless every variant runs on local-NVMe instances) and dataCaptureConfig.kmsKeyId set to a "
            "customer-managed KMS key")


def _missing(value: Any) -> bool:
    return value is not UNKNOWN and (not is_known(value) or not value or "alias/aws/" in str(value))


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = props_of(args)
    variants = props.get("productionVariants") or []
    problems = []
    types = [v.get("instanceType") for v in variants if isinstance(v, dict)]
    volumes = [str(t) for t in types if is_known(t) and t and needs_volume_key(str(t))]
    if volumes and _missing(props.get("kmsKeyArn")):
        problems.append(f"no kmsKeyArn for the volumes of {', '.join(sorted(set(volumes)))}")
    capture = props.get("dataCaptureConfig")
    if isinstance(capture, dict) and capture.get("enableCapture") is not False and _missing(capture.get("kmsKeyId")):
        problems.append("captured data without dataCaptureConfig.kmsKeyId")
    if problems:
        report_violation(f"endpoint configuration '{display_name(args, 'name')}': {'; '.join(problems)}; "
                         f"required: {REQUIRED}", None)


RULE = Rule(
    id="sagemaker-endpoint-config-kms-encrypted",
    description="SageMaker endpoint configurations encrypt volumes and captured data with a customer-managed key.",
    severity="high",
    control="NIST 800-53 SC-28(1)",
    kind="resource",
    validate=validate,
    resource_types=frozenset({ENDPOINT_CONFIG}),
    remediation="Set kms_key_arn and data_capture_config.kms_key_id to the team's models key of the region "
                "(the SageMakerEndpoint component does).",
)
