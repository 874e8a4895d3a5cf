"""Serving rules: endpoint configuration keys, models in the VPC, prod variant sizes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.rules.sagemaker_endpoint_config_kms_encrypted import RULE as CONFIG_KMS
from policies.rules.sagemaker_model_vpc_network_isolation import RULE as MODEL_VPC
from policies.rules.sagemaker_prod_variant_min_instances import RULE as PROD_VARIANTS

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e"
PROD_TAGS = {"team": "fraud", "env": "prod", "cost-center": "cc-1", "managed-by": "pulumi"}


def config(key: Any = KEY, capture_key: Any = KEY, instance="ml.m5.large", count=2, capture=True):
    props: dict[str, Any] = {"name": "fraud-dev-scorer-config", "productionVariants": [
        {"variantName": "AllTraffic", "modelName": "m", "instanceType": instance, "initialInstanceCount": count}]}
    if key:
        props["kmsKeyArn"] = key
    if capture:
        props["dataCaptureConfig"] = {"enableCapture": True, "initialSamplingPercentage": 20,
                                      "destinationS3Uri": "s3://b/data-capture",
                                      **({"kmsKeyId": capture_key} if capture_key else {})}
    return props


def test_configuration_with_keys_is_compliant(kit):
    assert kit.run(CONFIG_KMS, kit.args(CONFIG, config())) == []
    assert kit.run(CONFIG_KMS, kit.args(CONFIG, config(key=None, instance="ml.g5.xlarge"))) == []  # local NVMe
    assert kit.run(CONFIG_KMS, kit.args(CONFIG, config(key=kit.unknown, capture_key=kit.unknown))) == []


@pytest.mark.parametrize("props, problem", [
    (config(key=None), "no kmsKeyArn for the volumes of ml.m5.large"),
    (config(key="alias/aws/sagemaker"), "no kmsKeyArn for the volumes of ml.m5.large"),
    (config(capture_key=None), "captured data without dataCaptureConfig.kmsKeyId"),
])
def test_configuration_without_keys_is_reported(kit, props, problem):
    [(message, _)] = kit.run(CONFIG_KMS, kit.args(CONFIG, props))
    assert message.startswith("endpoint configuration 'fraud-dev-scorer-config': ") and problem in message


def test_model_in_the_vpc_isolated_is_compliant(kit):
    props = {"name": "m", "vpcConfig": {"subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]},
             "enableNetworkIsolation": True}
    assert kit.run(MODEL_VPC, kit.args(MODEL, props)) == []


@pytest.mark.parametrize("props, problem", [
    ({"name": "m", "enableNetworkIsolation": True}, "no vpcConfig"),
    ({"name": "m", "vpcConfig": {"subnets": [], "securityGroupIds": ["sg-1"]}, "enableNetworkIsolation": True},
     "vpcConfig without subnets"),
    ({"name": "m", "vpcConfig": {"subnets": ["s"], "securityGroupIds": ["sg-1"]}},
     "enableNetworkIsolation is not true"),
])
def test_model_outside_the_vpc_or_not_isolated_is_reported(kit, props, problem):
    [(message, _)] = kit.run(MODEL_VPC, kit.args(MODEL, props))
    assert message.startswith("model 'm': ") and problem in message


def test_prod_variant_with_one_instance_is_reported_and_dev_is_not(kit):
    prod = kit.provider(tags=PROD_TAGS)
    assert kit.run(PROD_VARIANTS, kit.args(CONFIG, config(count=2), provider=prod)) == []
    [(message, _)] = kit.run(PROD_VARIANTS, kit.args(CONFIG, config(count=1), provider=prod))
    assert message == ("endpoint configuration 'fraud-dev-scorer-config' in prod: variant 'AllTraffic' has 1 "
                       "instance(s); required: initialInstanceCount >= 2 (instances across AZs)")
    assert kit.run(PROD_VARIANTS, kit.args(CONFIG, config(count=1))) == []   # dev


# ---- sagemaker-pipeline-steps-guarded (issue 14) ----------------------------------------------------------------

PIPELINE = "aws:sagemaker/pipeline:Pipeline"
VPC = {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}


def pipeline(train: dict[str, Any] | None = None, evaluate: dict[str, Any] | None = None) -> dict[str, Any]:
    training = {"OutputDataConfig": {"KmsKeyId": KEY}, "VpcConfig": VPC,
                "ResourceConfig": {"InstanceType": "ml.m5.large", "VolumeKmsKeyId": KEY},
                "EnableInterContainerTrafficEncryption": True, **(train or {})}
    processing = {"ProcessingOutputConfig": {"KmsKeyId": KEY},
                  "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.g5.xlarge"}},   # local NVMe
                  "NetworkConfig": {"VpcConfig": VPC, "EnableInterContainerTrafficEncryption": True,
                                    "EnableNetworkIsolation": True},
                  **(evaluate or {})}
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {}}
    steps = [{"Name": "Train", "Type": "Training", "Arguments": training},
             {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [
                 {"Name": "Evaluate", "Type": "Processing", "Arguments": processing}, register]}}]
    return {"pipelineName": "fraud-dev-digits-retrain", "pipelineDefinition": json.dumps({"Steps": steps})}


def test_pipeline_with_guarded_steps_is_compliant(kit):
    from policies.rules.sagemaker_pipeline_steps_guarded import RULE as PIPELINE_STEPS

    assert kit.run(PIPELINE_STEPS, kit.args(PIPELINE, pipeline())) == []
    assert kit.run(PIPELINE_STEPS, kit.args(PIPELINE, {"pipelineName": "p", "pipelineDefinition": kit.unknown})) == []


@pytest.mark.parametrize(("props", "problem"), [
    (pipeline(train={"VpcConfig": None}), "step 'Train': no VpcConfig"),
    (pipeline(train={"OutputDataConfig": {}}), "step 'Train': no OutputDataConfig.KmsKeyId"),
    (pipeline(train={"ResourceConfig": {"InstanceType": "ml.m5.large"}}), "no ResourceConfig.VolumeKmsKeyId"),
    (pipeline(train={"EnableInterContainerTrafficEncryption": False}),
     "EnableInterContainerTrafficEncryption is not true"),
    (pipeline(evaluate={"NetworkConfig": {"VpcConfig": {"Subnets": [], "SecurityGroupIds": ["sg-1"]},
                                          "EnableInterContainerTrafficEncryption": True}}),
     "step 'Evaluate': VpcConfig without Subnets"),   # inside the condition's branch
    (pipeline(evaluate={"ProcessingOutputConfig": {"Outputs": []}}), "no ProcessingOutputConfig.KmsKeyId"),
    (pipeline(evaluate={"NetworkConfig": {"VpcConfig": VPC, "EnableInterContainerTrafficEncryption": True}}),
     "step 'Evaluate': NetworkConfig.EnableNetworkIsolation is not true"),
    ({"pipelineName": "p", "pipelineDefinitionS3Location": {"bucket": "b", "objectKey": "k"}}, "is not inline"),
])
def test_pipeline_step_outside_the_guardrails_is_reported(kit, props, problem):
    from policies.rules.sagemaker_pipeline_steps_guarded import RULE as PIPELINE_STEPS

    [(message, _)] = kit.run(PIPELINE_STEPS, kit.args(PIPELINE, props))
    assert problem in message, message


# -- issue 12, second part: capture, rollback, autoscaling, front doors, batch transforms ----------------
from policies.rules.apigateway_front_door_tls_and_logs import RULE as FRONT_DOOR  # noqa: E402
from policies.rules.sagemaker_batch_transform_encrypted import RULE as BATCH  # noqa: E402
from policies.rules.sagemaker_prod_data_capture import RULE as CAPTURE  # noqa: E402
from policies.rules.sagemaker_prod_endpoint_auto_rollback import RULE as ROLLBACK  # noqa: E402

ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ROLLED_BACK = {"name": "fraud-prod-scorer-euw1", "endpointConfigName": "c", "deploymentConfig": {
    "blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "CANARY"}},
    "autoRollbackConfiguration": {"alarms": [{"alarmName": "fraud-prod-scorer-5xx-euw1"}]}}}


def test_prod_configuration_without_capture_is_reported_and_dev_is_not(kit):
    prod = kit.provider(tags=PROD_TAGS)
    assert kit.run(CAPTURE, kit.args(CONFIG, config(), provider=prod)) == []
    [(message, _)] = kit.run(CAPTURE, kit.args(CONFIG, config(capture=False), provider=prod))
    assert message == ("endpoint configuration 'fraud-dev-scorer-config' in prod: no dataCaptureConfig; required: "
                       "data capture on (a sampling percentage above 0, to the team's bucket)")
    off = config()
    off["dataCaptureConfig"]["initialSamplingPercentage"] = 0
    assert "initialSamplingPercentage 0" in kit.run(CAPTURE, kit.args(CONFIG, off, provider=prod))[0][0]
    assert kit.run(CAPTURE, kit.args(CONFIG, config(capture=False))) == []   # dev


def test_prod_endpoint_without_rollback_alarms_is_reported(kit):
    prod = kit.provider(tags=PROD_TAGS)
    assert kit.run(ROLLBACK, kit.args(ENDPOINT, ROLLED_BACK, provider=prod)) == []
    bare = {"name": "fraud-prod-scorer-euw1", "endpointConfigName": "c"}
    [(message, _)] = kit.run(ROLLBACK, kit.args(ENDPOINT, bare, provider=prod))
    assert message.startswith("endpoint 'fraud-prod-scorer-euw1' in prod: no blue/green update policy; no alarms")
    assert kit.run(ROLLBACK, kit.args(ENDPOINT, bare)) == []   # dev


@pytest.mark.parametrize("token, props, problem", [
    ("aws:apigateway/domainName:DomainName", {"domainName": "s.example.com"}, "TLS_1_0 (the default)"),
    ("aws:apigateway/domainName:DomainName", {"domainName": "s.example.com", "securityPolicy": "TLS_1_0"}, "TLS_1_0"),
    ("aws:apigateway/stage:Stage", {"stageName": "live"}, "writes no access logs"),
])
def test_front_door_without_tls12_or_access_logs_is_reported(kit, token, props, problem):
    [(message, _)] = kit.run(FRONT_DOOR, kit.args(token, props))
    assert problem in message


def test_front_door_with_tls12_and_access_logs_is_compliant(kit):
    assert kit.run(FRONT_DOOR, kit.args("aws:apigateway/domainName:DomainName",
                                        {"domainName": "s", "securityPolicy": "TLS_1_2"})) == []
    assert kit.run(FRONT_DOOR, kit.args("aws:apigateway/stage:Stage", {"stageName": "live", "accessLogSettings": {
        "destinationArn": "arn:aws:logs:eu-west-1:1:log-group:x", "format": "{}"}})) == []


def schedule(output_key=KEY, volume_key=KEY, instance="ml.m5.large"):
    request = {"TransformOutput": {"S3OutputPath": "s3://b/o/", **({"KmsKeyId": output_key} if output_key else {})},
               "TransformResources": {"InstanceType": instance, "InstanceCount": 1,
                                      **({"VolumeKmsKeyId": volume_key} if volume_key else {})}}
    import json
    return {"name": "fraud-prod-scorer-batch-euw1", "target": {
        "arn": "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob", "input": json.dumps(request)}}


def test_batch_transform_schedules_encrypt_results_and_volumes(kit):
    token = "aws:scheduler/schedule:Schedule"
    assert kit.run(BATCH, kit.args(token, schedule())) == []
    assert kit.run(BATCH, kit.args(token, schedule(volume_key=None, instance="ml.g5.xlarge"))) == []   # local NVMe
    [(message, _)] = kit.run(BATCH, kit.args(token, schedule(output_key=None, volume_key=None)))
    assert message == ("schedule 'fraud-prod-scorer-batch-euw1' starts transform jobs with TransformOutput.KmsKeyId "
                       "missing; TransformResources.VolumeKmsKeyId missing for ml.m5.large; required: results and "
                       "volumes under a customer-managed key")


from policies.rules.sagemaker_prod_endpoint_drift_monitored import RULE as DRIFT  # noqa: E402
from policies.rules.sagemaker_prod_variant_autoscaling import RULE as AUTOSCALING  # noqa: E402

SCALING = "aws:appautoscaling/target:Target"


def serving_stack(kit, *, scaled=True, monitored=True, capture=True, tags=PROD_TAGS):
    prod = kit.provider(tags=tags)
    configuration = kit.resource(CONFIG, {**config(capture=capture), "name": "c"}, "config", provider=prod)
    endpoint = kit.resource(ENDPOINT, ROLLED_BACK, "endpoint", provider=prod, deps={"endpointConfigName": [
        configuration]})
    resources = [configuration, endpoint]
    if scaled:
        resources.append(kit.resource(SCALING, {
            "serviceNamespace": "sagemaker", "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "resourceId": "endpoint/fraud-prod-scorer-euw1/variant/AllTraffic", "minCapacity": 2, "maxCapacity": 6},
            "scaling", provider=prod))
    if monitored:
        resources += [
            kit.resource("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", {
                "name": "fraud-prod-scorer-drift-euw1",
                "dataQualityJobInput": {"endpointInput": {"endpointName": "fraud-prod-scorer-euw1"}}},
                "definition", provider=prod),
            kit.resource("aws:sagemaker/monitoringSchedule:MonitoringSchedule", {
                "name": "s", "monitoringScheduleConfig": {"monitoringJobDefinitionName": "fraud-prod-scorer-drift-euw1",
                                                         "monitoringType": "DataQuality"}}, "schedule", provider=prod)]
    return kit.stack(*resources)


def test_prod_variant_without_a_scalable_target_is_reported(kit):
    assert kit.run(AUTOSCALING, serving_stack(kit)) == []
    [(message, urn)] = kit.run(AUTOSCALING, serving_stack(kit, scaled=False))
    assert message == ("endpoint 'fraud-prod-scorer-euw1' in prod: variant(s) AllTraffic without autoscaling; "
                       "required: an aws.appautoscaling.Target with resourceId "
                       "endpoint/fraud-prod-scorer-euw1/variant/<variant> and a scaling policy")
    assert urn and urn.endswith("::endpoint")
    assert kit.run(AUTOSCALING, serving_stack(kit, scaled=False, tags={**PROD_TAGS, "env": "dev"})) == []


def test_prod_endpoint_capturing_data_without_a_monitor_is_reported(kit):
    assert kit.run(DRIFT, serving_stack(kit)) == []
    [(message, _)] = kit.run(DRIFT, serving_stack(kit, monitored=False))
    assert message.startswith("endpoint 'fraud-prod-scorer-euw1' in prod captures data that no data-quality "
                              "monitoring schedule reads")
    assert kit.run(DRIFT, serving_stack(kit, monitored=False, capture=False)) == []   # nothing captured to read
    assert kit.run(DRIFT, serving_stack(kit, monitored=False, tags={**PROD_TAGS, "env": "dev"})) == []
