"""In prod, every endpoint that captures data has a data-quality monitoring schedule on it (a stack rule:
the schedule's job definition names the endpoint)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import is_known, is_unknown, of_types, props_of, resource_env
from policies.support.sagemaker import ENDPOINT, ENDPOINT_CONFIG, configuration_of

SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
DEFINITION = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"


def _captures(endpoint: Any, configs: list[Any]) -> bool:
    config = configuration_of(endpoint, configs)
    if config is None:
        return False   # a configuration outside the stack: nothing to judge
    capture = props_of(config).get("dataCaptureConfig")
    return isinstance(capture, dict) and capture.get("enableCapture") is not False


def _monitored(resources: list[Any]) -> set[str] | None:
    """Endpoint names with a data-quality schedule (None: a schedule not known at preview)."""
    definitions = {}
    for definition in of_types(resources, [DEFINITION]):
        props = props_of(definition)
        endpoint = ((props.get("dataQualityJobInput") or {}).get("endpointInput") or {}).get("endpointName")
        if is_unknown(props.get("name")) or is_unknown(endpoint):
            return None
        definitions[props.get("name")] = endpoint
    watched = set()
    for schedule in of_types(resources, [SCHEDULE]):
        config = props_of(schedule).get("monitoringScheduleConfig")
        if not is_known(config):
            return None
        if isinstance(config, dict) and config.get("monitoringType") in (None, "DataQuality"):
            definition = config.get("monitoringJobDefinitionName")
            if is_unknown(definition):
                return None
            if definition in definitions:
                watched.add(str(definitions[definition]))
    return watched


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    endpoints = [e for e in of_types(args.resources, [ENDPOINT]) if resource_env(e) == "prod"]
    if not endpoints:
        return
    configs = of_types(args.resources, [ENDPOINT_CONFIG])
    watched = _monitored(args.resources)
    if watched is None:
        return
    for endpoint in endpoints:
        name = props_of(endpoint).get("name")
        if is_known(name) and _captures(endpoint, configs) and name not in watched:
            report_violation(f"endpoint '{name}' in prod captures data that no data-quality monitoring schedule "
                             f"reads; required: an aws.sagemaker.DataQualityJobDefinition on the endpoint and a "
                             f"MonitoringSchedule running it", endpoint.urn)


RULE = Rule(
    id="sagemaker-prod-endpoint-drift-monitored",
    description="Prod endpoints that capture data have a data-quality monitoring schedule.",
    severity="medium",
    control="NIST 800-53 SI-4",
    kind="stack",
    validate=validate,
    remediation="Name driftFeatures for the model: prod then creates its DriftMonitor in every serving region.",
)
