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
                  "NetworkConfig": {"VpcConfig": VPC, "EnableInterContainerTrafficEncryption": True},
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
    ({"pipelineName": "p", "pipelineDefinitionS3Location": {"bucket": "b", "objectKey": "k"}}, "is not inline"),
])
def test_pipeline_step_outside_the_guardrails_is_reported(kit, props, problem):
    from policies.rules.sagemaker_pipeline_steps_guarded import RULE as PIPELINE_STEPS

    [(message, _)] = kit.run(PIPELINE_STEPS, kit.args(PIPELINE, props))
    assert problem in message, message
