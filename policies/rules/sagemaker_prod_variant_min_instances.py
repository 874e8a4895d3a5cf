"""In prod, every production variant of an endpoint configuration starts with at least 2 instances
(SageMaker spreads them over Availability Zones)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import display_name, is_known, props_of, resource_env
from policies.support.sagemaker import ENDPOINT_CONFIG

MINIMUM = 2


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if resource_env(args) != "prod":
        return
    short = []
    for variant in props_of(args).get("productionVariants") or []:
        if not isinstance(variant, dict) or variant.get("serverlessConfig"):
            continue
        count = variant.get("initialInstanceCount")
        if is_known(count) and (not isinstance(count, int | float) or count < MINIMUM):
            short.append(f"variant '{variant.get('variantName')}' has {count} instance(s)")
    if short:
        report_violation(f"endpoint configuration '{display_name(args, 'name')}' in prod: {'; '.join(short)}; "
                         f"required: initialInstanceCount >= {MINIMUM} (instances across AZs)", None)


RULE = Rule(
    id="sagemaker-prod-variant-min-instances",
    description="Prod endpoint variants start with at least 2 instances, spread across Availability Zones.",
    severity="high",
    control="AWS FSBP SageMaker.4",
    kind="resource",
    validate=validate,
    resource_types=frozenset({ENDPOINT_CONFIG}),
    remediation="Set minCapacity >= 2 for the model in the stack config (prod refuses less).",
)
