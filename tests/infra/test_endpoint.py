"""SageMakerEndpoint alone, from its args: what SageMaker, CloudWatch and Application Auto Scaling get."""

from __future__ import annotations

import pytest

from infra.components.endpoint import SageMakerEndpoint, SageMakerEndpointArgs
from infra.guardrails import sagemaker_guardrails
from platform_lib.config.schema.serving import ServedModel

ACCOUNT = "123456789012"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
LOGS_KEY = "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"
ROLE = "arn:aws:iam::123456789012:role/fraud-dev-execution"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
GROUP = "sg-0ccccccccccccccccc"
TOPIC = "arn:aws:sns:us-east-1:123456789012:fraud-dev-alarms"
MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


def served(**extra) -> ServedModel:
    return ServedModel.model_validate({
        "name": "scorer", "image": "fraud/serving:1.4.0", "modelData": "scorer/3/model.tar.gz",
        "instanceType": "ml.m5.large", "minCapacity": 2, "maxCapacity": 6, "regions": ["us-east-1"],
        "rollout": {"strategy": "canary", "percent": 10, "waitMinutes": 10}, "dataCapturePercent": 20, **extra})


def endpoint(component, names, model: ServedModel):
    args = SageMakerEndpointArgs(names, "us-east-1", model, ROLE, "fraud-dev-models-123456789012-use1", KEY,
                                 SUBNETS, GROUP, LOGS_KEY, 30, alarm_actions=(TOPIC,))
    return component(lambda p: SageMakerEndpoint("scorer", args, p["us-east-1"]), regions=("us-east-1",))


def test_model_runs_in_the_platform_vpc_isolated_from_the_regional_replicas(component, team_names):
    view = endpoint(component, team_names, served())
    model = view.named("fraud-dev-scorer-model-use1", MODEL).inputs
    assert model["primaryContainer"] == {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud/serving:1.4.0",
        "modelDataUrl": "s3://fraud-dev-models-123456789012-use1/scorer/3/model.tar.gz"}
    assert model["vpcConfig"] == {"subnets": SUBNETS, "securityGroupIds": [GROUP]}
    assert model["enableNetworkIsolation"] is True and model["executionRoleArn"] == ROLE
    assert "name" not in model  # generated: a new version is created before the old one is deleted
    assert {view.region_of(r) for r in view.resources if r.type.startswith("aws:sagemaker")} == {"us-east-1"}


def test_configuration_encrypts_volumes_and_captured_data_with_the_models_key(component, team_names):
    config = endpoint(component, team_names, served()).named("fraud-dev-scorer-config-use1", CONFIG).inputs
    assert config["kmsKeyArn"] == KEY
    [variant] = config["productionVariants"]
    assert (variant["variantName"], variant["instanceType"], variant["initialInstanceCount"]) == (
        "AllTraffic", "ml.m5.large", 2)
    assert config["dataCaptureConfig"] == {
        "enableCapture": True, "initialSamplingPercentage": 20, "kmsKeyId": KEY,
        "destinationS3Uri": "s3://fraud-dev-models-123456789012-use1/data-capture/scorer",
        "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}]}


def test_local_nvme_instances_get_no_volume_key_and_no_capture_when_off(component, team_names):
    config = endpoint(component, team_names, served(instanceType="ml.g5.xlarge", dataCapturePercent=0)).named(
        "fraud-dev-scorer-config-use1", CONFIG).inputs
    assert "kmsKeyArn" not in config and "dataCaptureConfig" not in config


def test_endpoint_rolls_out_canary_and_back_on_its_alarms(component, team_names):
    view = endpoint(component, team_names, served())
    endpoint_ = view.named("fraud-dev-scorer-use1", ENDPOINT)
    assert endpoint_.inputs["name"] == "fraud-dev-scorer-use1"
    policy = endpoint_.inputs["deploymentConfig"]
    assert policy["blueGreenUpdatePolicy"] == {
        "trafficRoutingConfiguration": {"type": "CANARY", "waitIntervalInSeconds": 600,
                                        "canarySize": {"type": "CAPACITY_PERCENT", "value": 10}},
        "terminationWaitInSeconds": 600, "maximumExecutionTimeoutInSeconds": 3000}
    assert policy["autoRollbackConfiguration"] == {"alarms": [{"alarmName": "fraud-dev-scorer-5xx-use1"},
                                                              {"alarmName": "fraud-dev-scorer-latency-use1"}]}
    errors = view.named("fraud-dev-scorer-5xx-use1", "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert errors["threshold"] == 1 and errors["alarmActions"] == [TOPIC]
    assert errors["metricQueries"][2]["expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    assert errors["metricQueries"][0]["metric"]["dimensions"] == {"EndpointName": "fraud-dev-scorer-use1",
                                                                  "VariantName": "AllTraffic"}
    latency = view.named("fraud-dev-scorer-latency-use1", "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == (
        "ModelLatency", "p99", 1_000_000)


@pytest.mark.parametrize("rollout, routing", [
    ({"strategy": "linear", "percent": 25, "waitMinutes": 5},
     {"type": "LINEAR", "waitIntervalInSeconds": 300, "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 25}}),
    ({"strategy": "all-at-once"}, {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 600}),
])
def test_other_rollouts(component, team_names, rollout, routing):
    view = endpoint(component, team_names, served(rollout=rollout))
    policy = view.named("fraud-dev-scorer-use1", ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"] == routing


def test_log_group_first_encrypted_with_retention(component, team_names):
    view = endpoint(component, team_names, served())
    group = view.named("fraud-dev-scorer-endpoint-logs-use1", "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs == {"name": "/aws/sagemaker/Endpoints/fraud-dev-scorer-use1", "kmsKeyId": LOGS_KEY,
                            "retentionInDays": 30}
    assert group.urn in view.named("fraud-dev-scorer-use1", ENDPOINT).dependencies


def test_variant_scales_on_invocations_between_min_and_max(component, team_names):
    view = endpoint(component, team_names, served(autoscaling={"target": 250}))
    target = view.named("fraud-dev-scorer-scaling-use1", "aws:appautoscaling/target:Target").inputs
    assert target == {"serviceNamespace": "sagemaker", "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
                      "resourceId": "endpoint/fraud-dev-scorer-use1/variant/AllTraffic", "minCapacity": 2,
                      "maxCapacity": 6}
    policy = view.named("fraud-dev-scorer-invocations-use1", "aws:appautoscaling/policy:Policy").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 250
    assert tracking["predefinedMetricSpecification"] == {
        "predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
    assert policy["resourceId"] == "endpoint/fraud-dev-scorer-use1/variant/AllTraffic"


def test_what_it_creates_passes_the_team_role_guardrails(component, team_names):
    """The guardrails' conditions, evaluated on the request the Model and configuration make."""
    view = endpoint(component, team_names, served())
    model = view.named("fraud-dev-scorer-model-use1", MODEL).inputs
    config = view.named("fraud-dev-scorer-config-use1", CONFIG).inputs
    statements = sagemaker_guardrails(SUBNETS, [GROUP], [KEY])
    allowed = {s["Sid"]: s["Condition"] for s in statements}
    assert set(model["vpcConfig"]["subnets"]) <= set(allowed["SageMakerOnlyInPlatformSubnets"][
        "ForAnyValue:StringNotEquals"]["sagemaker:VpcSubnets"])
    assert model["vpcConfig"]["securityGroupIds"] == [GROUP] and model["enableNetworkIsolation"] is True
    assert config["kmsKeyArn"] in allowed["SageMakerVolumeKeyExpected"]["ArnNotLike"]["sagemaker:VolumeKmsKey"]
