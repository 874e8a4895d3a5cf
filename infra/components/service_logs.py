"""The account-wide log groups AWS services write the blueprint's workloads to (SageMaker jobs, the Glue
crawlers), created encrypted and with retention before the service would create them itself
(unencrypted, never expiring). Workload roles may write to them but not create log groups."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import Names

# SageMaker's fixed groups (one per region); endpoints write to /aws/sagemaker/Endpoints/<name>.
JOB_LOG_GROUPS = ("TrainingJobs", "ProcessingJobs", "TransformJobs")
SERVICE_LOG_GROUPS = {**{f"sagemaker-{kind.lower()}": f"/aws/sagemaker/{kind}" for kind in JOB_LOG_GROUPS},
                      "glue-crawlers": "/aws-glue/crawlers"}


@dataclass(frozen=True)
class ServiceLogsArgs:
    names: Names
    region: str
    logs_key_arn: pulumi.Input[str]
    retention_days: int


class ServiceLogs(pulumi.ComponentResource):
    """`SERVICE_LOG_GROUPS` of one region, under the platform's logs key."""

    def __init__(self, name: str, args: ServiceLogsArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:logs:ServiceLogs", name, None, opts)
        self.groups = {
            group: aws.cloudwatch.LogGroup(
                args.names.resource(purpose, args.region), name=group, kms_key_id=args.logs_key_arn,
                retention_in_days=args.retention_days,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            for purpose, group in SERVICE_LOG_GROUPS.items()
        }
        self.register_outputs({purpose: group.name for purpose, group in self.groups.items()})
