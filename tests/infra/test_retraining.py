"""The retraining pipeline as `pulumi up` would create it: the library's definition for the stack's outputs, a
least-privilege role, a schedule that may start only this pipeline, and the models key open to the role."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from platform_lib.config.loader import load_stack_file
from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.pipeline import check
from platform_lib.pipeline.definition import Spec, definition

STACKS = Path(__file__).resolve().parents[2] / "stacks"
PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def test_the_deployed_definition_is_the_librarys_for_the_stacks_outputs(plans):
    from infra.naming import tags

    for stack, instance in (("fraud-dev", "ml.m5.large"), ("fraud-prod", "ml.m5.xlarge")):
        view = plans[stack]
        pipeline = view.named(f"{stack}-digits-retrain", PIPELINE)
        assert pipeline.inputs["pipelineName"] == f"{stack}-digits-retrain"
        deployed = json.loads(pipeline.inputs["pipelineDefinition"])
        config = load_stack_file(STACKS / f"Pulumi.{stack}.yaml").config
        team = TeamOutputs.model_validate(view.plan.outputs)
        platform = PlatformOutputs.model_validate(plans[f"platform-{team.environment}"].plan.outputs)
        spec = Spec(team, config.model_registry.model("digits"), platform, tags(config, stack))  # type: ignore[union-attr]
        assert deployed == definition(spec)
        assert check.problems(deployed, pipeline.inputs["pipelineName"]) == []
        assert [s["Name"] for s in deployed["Steps"]] == ["Prepare", "Train", "Evaluate", "CheckGates"]
        assert deployed["Steps"][1]["Arguments"]["ResourceConfig"]["InstanceType"] == instance
        role = view.named(f"{stack}-digits-pipeline", ROLE)
        assert pipeline.inputs["roleArn"] == f"arn:aws:iam::{team.account_id}:role/{role.name}"
        assert view.document(role, "assumeRolePolicy")["Statement"][0]["Principal"] == \
            {"Service": "sagemaker.amazonaws.com"}
        assert role.inputs["permissionsBoundary"] == platform.workload_boundary_arn


def test_the_pipeline_role_may_run_its_jobs_register_and_nothing_else(plans):
    view = plans["fraud-prod"]
    document = view.document(view.named("fraud-prod-digits-pipeline-policy", ROLE_POLICY))
    allowed = {s["Sid"]: (sorted(s["Action"]), s["Resource"]) for s in document["Statement"] if s["Effect"] == "Allow"}
    account, region = "222222222222", "eu-west-1"
    assert allowed["RegisterIntoTheModelsGroup"] == (
        ["sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
        [f"arn:aws:sagemaker:{region}:{account}:model-package-group/fraud-prod-digits",
         f"arn:aws:sagemaker:{region}:{account}:model-package/fraud-prod-digits/*"])
    assert allowed["JobsRunAsTheExecutionRole"] == (
        ["iam:PassRole"], [f"arn:aws:iam::{account}:role/fraud-prod-sagemaker-execution"])
    assert allowed["ReadTheEvaluation"][1] == [f"arn:aws:s3:::fraud-prod-models-{account}-euw1/evaluation/digits/*"]
    assert set(allowed) == {"Jobs", "RegisterIntoTheModelsGroup", "JobsRunAsTheExecutionRole", "ReadTheEvaluation",
                            "JobKeysThroughSageMakerAndS3", "JobKeyGrantsForTheirVolumes"}
    denied = {s["Sid"] for s in document["Statement"] if s["Effect"] == "Deny"}
    assert "SageMakerOnlyInVpcSubnets" in denied   # the jobs it starts stay in the platform's VPC


def test_the_schedule_starts_only_this_pipeline(plans):
    view = plans["fraud-dev"]
    (schedule,) = view.of_type(SCHEDULE)   # the scorer starts on new data only
    pipeline = view.named("fraud-dev-digits-retrain", PIPELINE)
    arn = f"arn:aws:sagemaker:eu-west-1:111111111111:pipeline/{pipeline.inputs['pipelineName']}"
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 ? * MON *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "UTC"
    assert schedule.inputs["target"]["arn"] == arn
    policy = view.document(view.named("fraud-dev-digits-schedule-policy", ROLE_POLICY))
    assert policy["Statement"] == [{"Sid": "StartThePipeline", "Effect": "Allow",
                                    "Action": ["sagemaker:StartPipelineExecution"], "Resource": [arn]}]
    trust = view.document(view.named("fraud-dev-digits-schedule", ROLE), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_the_models_key_lets_the_pipeline_role_use_it(plans):
    view = plans["fraud-dev"]
    keys = [r for r in view.of_type("aws:kms/key:Key") if "models" in r.name]
    assert keys
    role = "arn:aws:iam::111111111111:role/fraud-dev-digits-pipeline"
    for key in keys:
        assert role in json.dumps(view.document(key))
    data = [r for r in view.of_type("aws:kms/key:Key") if "-data" in r.name]   # Prepare's volume and outputs
    assert data and all(role in json.dumps(view.document(k)) for k in data)


def test_the_feature_store_model_prepares_its_training_set_from_the_offline_store(plans):
    """fraud-dev's scorer: Prepare reads the labels and the transactions group's offline store, under the data key."""
    from infra.naming import tags

    view = plans["fraud-dev"]
    deployed = json.loads(view.named("fraud-dev-scorer-retrain", PIPELINE).inputs["pipelineDefinition"])
    config = load_stack_file(STACKS / "Pulumi.fraud-dev.yaml").config
    team = TeamOutputs.model_validate(view.plan.outputs)
    platform = PlatformOutputs.model_validate(plans["platform-dev"].plan.outputs)
    group = config.features.group("transactions")  # type: ignore[union-attr]
    spec = Spec(team, config.model_registry.model("scorer"), platform, tags(config, "fraud-dev"), group)  # type: ignore[union-attr]
    assert deployed == definition(spec) and check.problems(deployed) == []
    prepare = deployed["Steps"][0]["Arguments"]
    assert [i["S3Input"]["S3Uri"] for i in prepare["ProcessingInputs"]] == [
        "s3://fraud-dev-curated-111111111111-euw1/labels/scorer/train/",
        "s3://fraud-dev-curated-111111111111-euw1/labels/scorer/validation/",
        "s3://fraud-dev-features-111111111111-euw1/offline-store/111111111111/sagemaker/eu-west-1/offline-store/"
        "fraud-dev-transactions-"]
    assert "--feature=amount_24h:Fractional" in prepare["AppSpecification"]["ContainerArguments"]
    assert prepare["NetworkConfig"]["EnableNetworkIsolation"] is True
    document = view.document(view.named("fraud-dev-scorer-pipeline-policy", ROLE_POLICY))
    keys = next(s for s in document["Statement"] if s.get("Sid") == "JobKeysThroughSageMakerAndS3")["Resource"]
    assert sorted(keys) == sorted([team.key_arns["models"]["eu-west-1"], team.key_arns["data"]["eu-west-1"]])
    expected = next(s for s in document["Statement"] if s.get("Sid") == "SageMakerOutputKeyExpected")
    assert sorted(expected["Condition"]["ArnNotLike"]["sagemaker:OutputKmsKey"]) == sorted(keys)


EVENT_RULE, EVENT_TARGET = "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"


def test_new_data_under_the_prefix_starts_only_this_pipeline(plans):
    view = plans["fraud-dev"]
    rule = view.named("fraud-dev-scorer-new-data", EVENT_RULE)
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["fraud-dev-curated-111111111111-euw1"]},
                   "object": {"key": [{"wildcard": "labels/scorer/*_READY"}]}}}
    (target,) = view.of_type(EVENT_TARGET)
    arn = "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/fraud-dev-scorer-retrain"
    assert target.inputs["rule"] == rule.inputs["name"] and target.inputs["arn"] == arn
    assert "sagemakerPipelineTarget" in target.inputs
    assert target.inputs["roleArn"] == "arn:aws:iam::111111111111:role/fraud-dev-scorer-new-data"
    policy = view.document(view.named("fraud-dev-scorer-new-data-policy", ROLE_POLICY))
    assert policy["Statement"] == [{"Sid": "StartThePipeline", "Effect": "Allow",
                                    "Action": ["sagemaker:StartPipelineExecution"], "Resource": [arn]}]
    trust = view.document(view.named("fraud-dev-scorer-new-data", ROLE), "assumeRolePolicy")
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    # S3 sends the curated bucket's events to EventBridge, from the one notification configuration of each bucket
    (notification,) = view.of_type(NOTIFICATION)
    assert notification.inputs == {"bucket": "fraud-dev-curated-111111111111-euw1", "eventbridge": True}
    assert len(plans["fraud-prod"].of_type(EVENT_TARGET)) == len(plans["fraud-prod"].of_type(NOTIFICATION)) == 1


def test_every_bucket_has_at_most_one_notification_configuration(plans):
    """A BucketNotification replaces the bucket's whole configuration: a second one would silently drop the first."""
    for view in plans.values():
        buckets = [r.inputs["bucket"] for r in view.of_type(NOTIFICATION)]
        assert len(buckets) == len(set(buckets)), view.plan.stack


@pytest.mark.parametrize(("edit", "message"), [
    (("featureGroup: transactions", "featureGroup: payments"),
     "line 60: ml-platform:modelRegistry.models.1.retraining.featureGroup: 'payments' is not a feature group"),
    (("onNewData: true", "onNewData: sometimes"), "line 62: ml-platform:modelRegistry.models.1.retraining.onNewData"),
    (("          onNewData: true\n", ""),
     "line 62: ml-platform:modelRegistry.models.1.retraining.newDataMarker: newDataMarker only applies"),
])
def test_a_bad_trigger_or_feature_group_names_its_yaml_path(tmp_path, edit, message):
    from platform_lib.config.loader import ConfigError

    text = (STACKS / "Pulumi.fraud-dev.yaml").read_text()
    assert edit[0] in text
    path = tmp_path / "Pulumi.fraud-dev.yaml"
    path.write_text(text.replace(edit[0], edit[1]))
    with pytest.raises(ConfigError) as error:
        load_stack_file(path)
    assert message in str(error.value), str(error.value)


def test_the_trigger_and_its_marker_are_typed():
    from platform_lib.config.schema.models import ModelDeclaration

    base: dict[str, Any] = {"name": "scorer", "description": "d", "gates": ["validation_accuracy >= 0.9"],
                            "retraining": {"image": "fraud/training:1.0.0", "servingImage": "fraud/serving:1.4.0"}}
    with pytest.raises(ValueError, match="newDataMarker only applies to the new-data trigger"):
        ModelDeclaration.model_validate({**base, "retraining": {**base["retraining"], "newDataMarker": "_READY"}})
    with pytest.raises(ValueError, match="overlaps pipelines/scorer/"):
        ModelDeclaration.model_validate({**base, "retraining": {**base["retraining"], "onNewData": True,
                                                                 "dataPrefix": "pipelines/"}})
    with pytest.raises(ValueError, match="onNewData"):
        ModelDeclaration.model_validate({**base, "retraining": {**base["retraining"], "onNewData": "yes"}})


PUBLISHED_SCHEMA = os.environ.get("SAGEMAKER_PIPELINE_SCHEMA")


@pytest.mark.skipif(not PUBLISHED_SCHEMA, reason=(
    "AWS's published pipeline definition schema is not part of the project (its repository has no licence): "
    "git clone https://github.com/aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema and "
    "set SAGEMAKER_PIPELINE_SCHEMA=<clone>/schema/pipeline-definition.schema.json"))
def test_every_example_pipeline_is_valid_against_aws_published_schema(plans):
    """Valid beyond the places where the published schema is older than the service (check.PUBLISHED_SCHEMA_GAPS),
    each of which the schema as published must still refuse (else the gap is closed: drop it)."""
    assert PUBLISHED_SCHEMA is not None
    published = json.loads(Path(PUBLISHED_SCHEMA).read_text())
    definitions = {r.name: json.loads(r.inputs["pipelineDefinition"])
                   for view in plans.values() for r in view.of_type(PIPELINE)}
    assert sorted(definitions) == ["fraud-dev-digits-retrain", "fraud-dev-scorer-retrain", "fraud-prod-digits-retrain",
                                   "fraud-prod-scorer-retrain"]
    for name, document in definitions.items():
        assert check.published_problems(document, PUBLISHED_SCHEMA) == [], name
    refused = " ".join(error for document in definitions.values()
                       for error in check.published_errors(document, published))
    for evidence in ("'Std:Join' was unexpected", "'Std:JsonGet' was unexpected", "'PropertyFiles' was unexpected",
                     "'ModelApprovalStatus' was unexpected", "'Environment' was unexpected"):
        assert evidence in refused, f"the published schema now accepts what {evidence} was about: drop that gap"
