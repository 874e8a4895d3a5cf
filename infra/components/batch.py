"""`BatchScoring`: a served model scores a bucket prefix on a schedule, as a SageMaker batch transform.

EventBridge Scheduler calls SageMaker's `CreateTransformJob` directly (a universal target) with a role
that may do only that, for this model's jobs, writing with the team's data key. A transform job needs a
name that is new on every run: the job name and the output prefix carry
`<aws.scheduler.execution-id>`, which Scheduler replaces with a fresh id on each invocation. Retries are
off, so one scheduled time starts at most one job (a failed start shows in Scheduler's
`TargetErrorCount` metric). The job runs the endpoint's Model, so it inherits its image, artifacts, VPC,
network isolation and execution role, which reads the input and writes the results.

Input: `s3://<curated>/batch/<model>/input/` (CSV, one record per line). Output:
`s3://<curated>/batch/<model>/output/<execution id>/<input file>.out`, SSE-KMS under the data key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import Names
from policies.support.sagemaker import needs_volume_key

EXECUTION_ID = "<aws.scheduler.execution-id>"
# A transform job name has at most 63 characters; Scheduler's execution id has 16 in AWS's examples, and
# the prefix is cut so that even a 36-character id fits.
JOB_PREFIX_MAX = 63 - 1 - 36
UNIVERSAL_TARGET = "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"


@dataclass(frozen=True)
class BatchScoringArgs:
    names: Names
    region: str
    model: str                                # the served model's name
    model_name: pulumi.Input[str]             # the SageMaker Model of the endpoint in this region
    instance_type: str
    schedule: str                             # cron(...) or rate(...)
    bucket: pulumi.Input[str]                 # the team's curated bucket (input and results)
    data_key_arn: pulumi.Input[str]           # the team's data key: results and volumes
    permissions_boundary: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)   # the stack's tags, on every job


def job_prefix(names: Names, model: str) -> str:
    """`fraud-prod-scorer`: this model's transform jobs are `<prefix>-<execution id>`."""
    return names.resource(model)[:JOB_PREFIX_MAX].rstrip("-")


def transform_request(args: BatchScoringArgs, model_name: str, bucket: str, key: str) -> dict:
    """The `CreateTransformJob` request Scheduler sends (context attributes replaced per run)."""
    prefix = f"s3://{bucket}/batch/{args.model}"
    resources = {"InstanceType": args.instance_type, "InstanceCount": 1}
    if needs_volume_key(args.instance_type):
        resources["VolumeKmsKeyId"] = key
    return {
        "TransformJobName": f"{job_prefix(args.names, args.model)}-{EXECUTION_ID}",
        "ModelName": model_name,
        "BatchStrategy": "MultiRecord", "MaxPayloadInMB": 6,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{prefix}/input/"}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": f"{prefix}/output/{EXECUTION_ID}/", "KmsKeyId": key,
                            "Accept": "text/csv", "AssembleWith": "Line"},
        "TransformResources": resources,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(args.tags.items())],
    }


class BatchScoring(pulumi.ComponentResource):
    """The schedule and the role it starts transform jobs with."""

    def __init__(self, name: str, args: BatchScoringArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:BatchScoring", name, None, opts)
        names, region, account = args.names, args.region, args.names.account_id
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        role_name = names.resource(f"{args.model}-batch")   # one per model: the primary region's
        self.role = aws.iam.Role(
            role_name, name=role_name, description=f"EventBridge Scheduler starts batch transforms of {args.model}",
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("scheduler.amazonaws.com", account)),
            permissions_boundary=args.permissions_boundary, opts=child)
        jobs = f"arn:aws:sagemaker:{region}:{account}:transform-job/{job_prefix(names, args.model)}-*"
        policy = aws.iam.RolePolicy(
            f"{role_name}-policy", role=self.role.id, opts=child,
            policy=pulumi.Output.json_dumps(pulumi.Output.from_input(args.data_key_arn).apply(
                lambda key: documents.document(
                    documents.allow(["sagemaker:CreateTransformJob"], jobs, sid="ThisModelsJobs",
                                    ArnEquals={"sagemaker:OutputKmsKey": key}),
                    documents.allow(["sagemaker:AddTags"], jobs, sid="TagTheJobs")))))
        request = pulumi.Output.all(args.model_name, args.bucket, args.data_key_arn).apply(
            lambda v: transform_request(args, v[0], v[1], v[2]))
        self.schedule = aws.scheduler.Schedule(
            names.resource(f"{args.model}-batch"), name=names.resource(f"{args.model}-batch"),
            description=f"Scores batch/{args.model}/input/ of the curated bucket with {args.model}",
            schedule_expression=args.schedule, schedule_expression_timezone="UTC",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=UNIVERSAL_TARGET, role_arn=self.role.arn, input=pulumi.Output.json_dumps(request),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=0)),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[policy]))
        self.register_outputs({"schedule": self.schedule.name})
