"""In prod, every variant of every endpoint has an Application Auto Scaling target (a stack rule: the
target names the endpoint and variant in its resource id)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import is_known, of_types, props_of, resource_env, urn_of
from policies.support.sagemaker import (
    ENDPOINT,
    ENDPOINT_CONFIG,
    SCALABLE_TARGET,
    VARIANT_DIMENSION,
    configuration_of,
)


def _variants(endpoint: Any, configs: dict[str, Any]) -> list[str] | None:
    """The variant names of the endpoint's configuration (None: not known at preview)."""
    config = configuration_of(endpoint, list(configs.values()))
    if config is None or not is_known(props_of(config).get("productionVariants")):
        return None
    return [str(v.get("variantName")) for v in props_of(config).get("productionVariants") or []
            if isinstance(v, dict) and not v.get("serverlessConfig")]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    endpoints = [e for e in of_types(args.resources, [ENDPOINT]) if resource_env(e) == "prod"]
    if not endpoints:
        return
    configs = {urn_of(c): c for c in of_types(args.resources, [ENDPOINT_CONFIG])}
    scaled = set()
    for target in of_types(args.resources, [SCALABLE_TARGET]):
        props = props_of(target)
        if props.get("serviceNamespace") == "sagemaker" and props.get("scalableDimension") == VARIANT_DIMENSION:
            if not is_known(props.get("resourceId")):
                return   # a target not known at preview may be the missing one
            scaled.add(str(props.get("resourceId")))
    for endpoint in endpoints:
        name = props_of(endpoint).get("name")
        variants = _variants(endpoint, configs)
        if not is_known(name) or variants is None:
            continue
        missing = [v for v in variants if f"endpoint/{name}/variant/{v}" not in scaled]
        if missing:
            report_violation(f"endpoint '{name}' in prod: variant(s) {', '.join(missing)} without autoscaling; "
                             f"required: an aws.appautoscaling.Target with resourceId endpoint/{name}/variant/"
                             f"<variant> and a scaling policy", endpoint.urn)


RULE = Rule(
    id="sagemaker-prod-variant-autoscaling",
    description="Every prod endpoint variant has an Application Auto Scaling target.",
    severity="medium",
    control="AWS Well-Architected REL07-BP01",
    kind="stack",
    validate=validate,
    remediation="Use the SageMakerEndpoint component: it registers a scalable target and a target-tracking policy.",
)
