"""In prod, every endpoint configuration captures a share of its requests and responses (drift monitoring
reads them)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import display_name, is_unknown, props_of, resource_env
from policies.support.sagemaker import ENDPOINT_CONFIG


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if resource_env(args) != "prod":
        return
    capture = props_of(args).get("dataCaptureConfig")
    if is_unknown(capture):
        return
    if isinstance(capture, dict):
        enabled, share = capture.get("enableCapture"), capture.get("initialSamplingPercentage")
        if is_unknown(enabled) or is_unknown(share):
            return
        if enabled is not False and isinstance(share, int | float) and share > 0 and capture.get("destinationS3Uri"):
            return
        problem = f"enableCapture {enabled}, initialSamplingPercentage {share}"
    else:
        problem = "no dataCaptureConfig"
    report_violation(f"endpoint configuration '{display_name(args, 'name')}' in prod: {problem}; required: data "
                     f"capture on (a sampling percentage above 0, to the team's bucket)", None)


RULE = Rule(
    id="sagemaker-prod-data-capture",
    description="Prod endpoint configurations capture requests and responses for drift monitoring.",
    severity="medium",
    control="NIST 800-53 SI-4",
    kind="resource",
    validate=validate,
    resource_types=frozenset({ENDPOINT_CONFIG}),
    remediation="Set dataCapturePercent (1-100) for the model; prod's default is 20.",
)
