"""The retraining pipeline as `pulumi up` would create it: the library's definition for the stack's outputs, a
least-privilege role, a schedule that may start only this pipeline, and the models key open to the role."""

from __future__ import annotations

import json
from pathlib import Path

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
        (pipeline,) = view.of_type(PIPELINE)
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
                            "ModelsKeyThroughSageMakerAndS3", "ModelsKeyGrantsForTheJobs"}
    denied = {s["Sid"] for s in document["Statement"] if s["Effect"] == "Deny"}
    assert "SageMakerOnlyInVpcSubnets" in denied   # the jobs it starts stay in the platform's VPC


def test_the_schedule_starts_only_this_pipeline(plans):
    view = plans["fraud-dev"]
    (schedule,) = view.of_type(SCHEDULE)
    (pipeline,) = view.of_type(PIPELINE)
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
    data = [r for r in view.of_type("aws:kms/key:Key") if "-data" in r.name]
    assert data and all(role not in json.dumps(view.document(k)) for k in data)
