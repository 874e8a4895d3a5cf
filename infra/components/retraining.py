"""A declared model's scheduled retraining: the SageMaker Pipeline that ``platform_lib.pipeline`` defines (train,
evaluate, check the model's gates, register ``PendingManualApproval``), the role the pipeline runs as, and an
EventBridge Scheduler schedule that starts it, with its own role allowed to start only this pipeline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.documents import allow
from infra.guardrails import sagemaker_guardrails
from infra.naming import Names
from platform_lib.config.schema.models import ModelDeclaration
from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.pipeline.definition import EVALUATION_FILE, Spec, definition_json, pipeline_name

PIPELINE_ROLE = "{model}-pipeline"     # `<team>-<env>-<model>-pipeline`: the role the pipeline runs as
SCHEDULE_ROLE = "{model}-schedule"     # `<team>-<env>-<model>-schedule`: the role the schedule starts it with


@dataclass(frozen=True)
class RetrainingArgs:
    names: Names
    region: str                                   # the primary region: models are trained and registered there
    model: ModelDeclaration                       # with ``retraining`` set
    team: pulumi.Input[TeamOutputs]               # the team's outputs as the library reads them
    platform: pulumi.Input[PlatformOutputs]
    package_group_arn: pulumi.Input[str]
    models_bucket_arn: pulumi.Input[str]
    models_key_arn: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str]
    tags: dict[str, str]


def pipeline_role_document(names: Names, region: str, model: str, package_group_arn: str, execution_role_arn: str,
                           models_bucket_arn: str, models_key_arn: str, subnet_ids: Sequence[str],
                           security_group_ids: Sequence[str]) -> dict[str, Any]:
    """What the pipeline does as itself: start and watch its jobs (which run as the execution role, in the
    platform's subnets, under the models key), read its evaluation file, and register into the model's package
    group. Nothing else."""
    account = names.account_id
    jobs = f"arn:aws:sagemaker:{region}:{account}"
    packages = package_group_arn.replace(":model-package-group/", ":model-package/") + "/*"
    return documents.document(
        allow(["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
               "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
               "sagemaker:AddTags"], [f"{jobs}:training-job/*", f"{jobs}:processing-job/*"], sid="Jobs"),
        allow(["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:AddTags"],
              [package_group_arn, packages], sid="RegisterIntoTheModelsGroup"),
        allow(["iam:PassRole"], [execution_role_arn], sid="JobsRunAsTheExecutionRole",
              StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"}),
        allow(["s3:GetObject"], [f"{models_bucket_arn}/evaluation/{model}/*"], sid="ReadTheEvaluation",
              **documents.in_account(account)),
        allow(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [models_key_arn],
              sid="ModelsKeyThroughSageMakerAndS3",
              **{"ForAnyValue:StringEquals": {"kms:ViaService": [f"sagemaker.{region}.amazonaws.com",
                                                                f"s3.{region}.amazonaws.com"]}}),
        documents.grants_for_aws_resources(models_key_arn, sid="ModelsKeyGrantsForTheJobs"),  # their volumes
        *sagemaker_guardrails(subnet_ids, security_group_ids, [models_key_arn]),
    )


def schedule_role_document(pipeline_arn: str) -> dict[str, Any]:
    """The schedule may start this pipeline, and nothing else."""
    return documents.document(allow(["sagemaker:StartPipelineExecution"], [pipeline_arn], sid="StartThePipeline"))


class RetrainingPipeline(pulumi.ComponentResource):
    """The model's retraining pipeline, its role, and its schedule (when the declaration has one)."""

    def __init__(self, name: str, args: RetrainingArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:team:RetrainingPipeline", name, None, opts)
        names, model = args.names, args.model
        retraining = model.retraining
        if retraining is None:
            raise ValueError(f"model {model.name} declares no retraining")
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        account = names.account_id
        role_name = names.resource(PIPELINE_ROLE.format(model=model.name))
        self.role = aws.iam.Role(
            role_name, name=role_name, permissions_boundary=args.permissions_boundary,
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("sagemaker.amazonaws.com", account)),
            opts=child)
        team = pulumi.Output.from_input(args.team)
        aws.iam.RolePolicy(
            f"{role_name}-policy", role=self.role.id,
            policy=pulumi.Output.all(team, args.package_group_arn, args.models_bucket_arn, args.models_key_arn,
                                     args.platform).apply(
                lambda v: json.dumps(pipeline_role_document(
                    names, args.region, model.name, v[1], v[0].execution_role_arn, v[2], v[3],
                    v[4].networks[args.region].private_subnet_ids,
                    [v[4].networks[args.region].sagemaker_security_group_id or ""]))),
            opts=child)
        pipeline = pipeline_name(names.scope, names.environment, model.name)
        self.pipeline = aws.sagemaker.Pipeline(
            pipeline, pipeline_name=pipeline, pipeline_display_name=pipeline, role_arn=self.role.arn,
            pipeline_description=f"Retrains {model.name}: train, evaluate ({EVALUATION_FILE}), gates "
                                 f"{'; '.join(map(str, model.gates))}, register PendingManualApproval",
            pipeline_definition=pulumi.Output.all(team, args.platform).apply(
                lambda v: definition_json(Spec(v[0], model, v[1], args.tags))),
            opts=child)
        self.schedule: aws.scheduler.Schedule | None = None
        if retraining.schedule:
            schedule_role = names.resource(SCHEDULE_ROLE.format(model=model.name))
            role = aws.iam.Role(
                schedule_role, name=schedule_role, permissions_boundary=args.permissions_boundary,
                assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("scheduler.amazonaws.com", account)),
                opts=child)
            aws.iam.RolePolicy(f"{schedule_role}-policy", role=role.id,
                               policy=self.pipeline.arn.apply(lambda arn: json.dumps(schedule_role_document(arn))),
                               opts=child)
            self.schedule = aws.scheduler.Schedule(
                names.resource(f"{model.name}-retrain"), name=names.resource(f"{model.name}-retrain"),
                description=f"Starts {pipeline}", schedule_expression=retraining.schedule,
                schedule_expression_timezone="UTC",
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=self.pipeline.arn, role_arn=role.arn,
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=2)),
                opts=child)
        self.register_outputs({"pipeline_name": self.pipeline.pipeline_name, "role_arn": self.role.arn})
