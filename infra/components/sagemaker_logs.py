"""The log groups SageMaker writes every job of the account to, created encrypted and with retention
before SageMaker would create them itself (unencrypted, never expiring)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import Names

# SageMaker's fixed, account-wide groups (one per region); endpoints write to /aws/sagemaker/Endpoints/<name>.
JOB_LOG_GROUPS = ("TrainingJobs", "ProcessingJobs", "TransformJobs")


@dataclass(frozen=True)
class SageMakerLogsArgs:
    names: Names
    region: str
    logs_key_arn: pulumi.Input[str]
    retention_days: int


class SageMakerLogs(pulumi.ComponentResource):
    """`/aws/sagemaker/{TrainingJobs,ProcessingJobs,TransformJobs}` of one region, under the platform's
    logs key; workload roles may write to them but not create log groups."""

    def __init__(self, name: str, args: SageMakerLogsArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:logs:SageMakerLogs", name, None, opts)
        self.groups = {
            kind: aws.cloudwatch.LogGroup(
                args.names.resource(f"sagemaker-{kind.lower()}", args.region),
                name=f"/aws/sagemaker/{kind}", kms_key_id=args.logs_key_arn,
                retention_in_days=args.retention_days,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            for kind in JOB_LOG_GROUPS
        }
        self.register_outputs({kind: group.name for kind, group in self.groups.items()})
