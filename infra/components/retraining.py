"""A declared model's retraining: the SageMaker Pipeline that ``platform_lib.pipeline`` defines (prepare the training
set, train, evaluate, check the model's gates, register ``PendingManualApproval``), the role the pipeline runs as,
and what starts it: an EventBridge Scheduler schedule, an EventBridge rule on new objects under the model's data
prefix (S3 sends the curated bucket's events to EventBridge: ``data_events``), or both, each with its own role
allowed to start only this pipeline."""

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
from platform_lib.config.schema.features import FeatureGroup
from platform_lib.config.schema.models import ModelDeclaration
from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.pipeline.definition import EVALUATION_FILE, Spec, definition_json, pipeline_name

PIPELINE_ROLE = "{model}-pipeline"     # `<team>-<env>-<model>-pipeline`: the role the pipeline runs as
SCHEDULE_ROLE = "{model}-schedule"     # `<team>-<env>-<model>-schedule`: the role the schedule starts it with
TRIGGER_ROLE = "{model}-new-data"      # `<team>-<env>-<model>-new-data`: the role the new-data rule starts it with


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
    data_key_arn: pulumi.Input[str] = ""          # the curated tier's (Prepare's volume and outputs)
    curated_bucket: pulumi.Input[str] = ""        # its name: the new-data rule matches its events
    feature_group: FeatureGroup | None = None     # the declaration of ``retraining.featureGroup``


def pipeline_role_document(names: Names, region: str, model: str, package_group_arn: str, execution_role_arn: str,
                           models_bucket_arn: str, models_key_arn: str, subnet_ids: Sequence[str],
                           security_group_ids: Sequence[str], data_key_arn: str | None = None) -> dict[str, Any]:
    """What the pipeline does as itself: start and watch its jobs (which run as the execution role, in the
    platform's subnets, under the models key, and the data key for the Prepare step), read its evaluation file,
    and register into the model's package group. Nothing else."""
    keys = [models_key_arn, *([data_key_arn] if data_key_arn else [])]
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
        allow(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], keys,
              sid="JobKeysThroughSageMakerAndS3",
              **{"ForAnyValue:StringEquals": {"kms:ViaService": [f"sagemaker.{region}.amazonaws.com",
                                                                f"s3.{region}.amazonaws.com"]}}),
        documents.grants_for_aws_resources(keys, sid="JobKeyGrantsForTheirVolumes"),  # their volumes
        *sagemaker_guardrails(subnet_ids, security_group_ids, keys),
    )


def schedule_role_document(pipeline_arn: str) -> dict[str, Any]:
    """The schedule may start this pipeline, and nothing else."""
    return documents.document(allow(["sagemaker:StartPipelineExecution"], [pipeline_arn], sid="StartThePipeline"))


def new_data_pattern(bucket: str, prefix: str, marker: str | None = None) -> dict[str, Any]:
    """EventBridge's pattern of S3 ``Object Created`` events under ``prefix`` of ``bucket`` (of keys ending with
    ``marker`` only, when given: one event per batch)."""
    key = {"prefix": prefix} if marker is None else {"wildcard": f"{prefix.replace('*', chr(92) + '*')}*{marker}"}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket]}, "object": {"key": [key]}}}


def data_events(name: str, bucket: pulumi.Input[str], opts: pulumi.ResourceOptions) -> aws.s3.BucketNotification:
    """S3 sends every event of ``bucket`` to EventBridge (where rules pick theirs). A bucket has one notification
    configuration, which this resource owns whole: create it once per bucket, and add any other notification
    (topics, queues, functions) to it rather than in a second resource, which would overwrite it."""
    return aws.s3.BucketNotification(name, bucket=bucket, eventbridge=True, opts=opts)


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
                                     args.platform, args.data_key_arn).apply(
                lambda v: json.dumps(pipeline_role_document(
                    names, args.region, model.name, v[1], v[0].execution_role_arn, v[2], v[3],
                    v[4].networks[args.region].private_subnet_ids,
                    [v[4].networks[args.region].sagemaker_security_group_id or ""], v[5] or None))),
            opts=child)
        pipeline = pipeline_name(names.scope, names.environment, model.name)
        self.pipeline = aws.sagemaker.Pipeline(
            pipeline, pipeline_name=pipeline, pipeline_display_name=pipeline, role_arn=self.role.arn,
            pipeline_description=f"Retrains {model.name}: prepare, train, evaluate ({EVALUATION_FILE}), gates "
                                 f"{'; '.join(map(str, model.gates))}, register PendingManualApproval",
            pipeline_definition=pulumi.Output.all(team, args.platform).apply(
                lambda v: definition_json(Spec(v[0], model, v[1], args.tags, args.feature_group))),
            opts=child)
        self.schedule: aws.scheduler.Schedule | None = None
        if retraining.schedule:
            role = self._starter_role(args, SCHEDULE_ROLE, "scheduler.amazonaws.com", child)
            self.schedule = aws.scheduler.Schedule(
                names.resource(f"{model.name}-retrain"), name=names.resource(f"{model.name}-retrain"),
                description=f"Starts {pipeline}", schedule_expression=retraining.schedule,
                schedule_expression_timezone="UTC",
                flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                target=aws.scheduler.ScheduleTargetArgs(
                    arn=self.pipeline.arn, role_arn=role.arn,
                    retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=2)),
                opts=child)
        self.new_data: aws.cloudwatch.EventRule | None = None
        if retraining.on_new_data:
            self.new_data = self._new_data_rule(args, child)
        self.register_outputs({"pipeline_name": self.pipeline.pipeline_name, "role_arn": self.role.arn})

    def _starter_role(self, args: RetrainingArgs, purpose: str, service: str,
                      child: pulumi.ResourceOptions) -> aws.iam.Role:
        """A role ``service`` assumes to start this pipeline, and nothing else."""
        name = args.names.resource(purpose.format(model=args.model.name))
        role = aws.iam.Role(name, name=name, permissions_boundary=args.permissions_boundary,
                            assume_role_policy=pulumi.Output.json_dumps(
                                documents.assume_role(service, args.names.account_id)), opts=child)
        aws.iam.RolePolicy(f"{name}-policy", role=role.id,
                           policy=self.pipeline.arn.apply(lambda arn: json.dumps(schedule_role_document(arn))),
                           opts=child)
        return role

    def _new_data_rule(self, args: RetrainingArgs, child: pulumi.ResourceOptions) -> aws.cloudwatch.EventRule:
        """Starts the pipeline on each object created under the model's data prefix (``data_events`` sends them).
        Each matching object starts one execution, and executions run concurrently: a batch of files starts one
        per file unless ``newDataMarker`` says which object ends a batch (docs/promotion.md)."""
        names, model = args.names, args.model
        retraining = model.retraining
        assert retraining is not None
        prefix = retraining.data_prefix or f"training/{model.name}/"
        rule_name = names.resource(f"{model.name}-new-data")
        rule = aws.cloudwatch.EventRule(
            rule_name, name=rule_name, description=f"New data under {prefix}: starts "
                                             f"{pipeline_name(names.scope, names.environment, model.name)}",
            event_pattern=pulumi.Output.from_input(args.curated_bucket).apply(
                lambda bucket: json.dumps(new_data_pattern(bucket, prefix, retraining.new_data_marker))),
            opts=child)
        role = self._starter_role(args, TRIGGER_ROLE, "events.amazonaws.com", child)
        aws.cloudwatch.EventTarget(
            rule_name, rule=rule.name, arn=self.pipeline.arn, role_arn=role.arn,
            sagemaker_pipeline_target=aws.cloudwatch.EventTargetSagemakerPipelineTargetArgs(),
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_retry_attempts=2,
                                                                   maximum_event_age_in_seconds=3600),
            opts=child)
        return rule
