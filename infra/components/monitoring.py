"""`DriftMonitor`: SageMaker Model Monitor's data-quality schedule on one endpoint's captured data.

Every hour, Model Monitor's analyzer (`sagemaker-model-monitor-analyzer`, AWS's image in each region)
compares the requests captured in the last hour with the baseline of the training set, writes its
report under the models key, and publishes `feature_baseline_drift_<feature>` metrics
(namespace `aws/sagemaker/Endpoints/data-metrics`, dimensions `Endpoint` and `MonitoringSchedule`). An
alarm on the largest drift of the declared features notifies the team's alerts topic of the region.

The baseline is `s3://<models bucket>/monitoring/<model>/baseline/{statistics,constraints}.json`,
produced once per training set by a baselining job (`docs/serving.md`) in the primary region's
models bucket, and replicated with it to every serving region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import Names
from policies.support.sagemaker import analyzer_image

SCHEDULE = "cron(0 * ? * * *)"          # hourly, Model Monitor's shortest period
INSTANCE_TYPE = "ml.m5.xlarge"
METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


@dataclass(frozen=True)
class DriftMonitorArgs:
    names: Names
    region: str
    model: str
    endpoint_name: pulumi.Input[str]
    features: Sequence[str]
    threshold: float
    execution_role_arn: pulumi.Input[str]
    models_bucket: pulumi.Input[str]          # of this region: baseline (replicated) and reports
    models_key_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    security_group_id: pulumi.Input[str]
    alarm_topic_arn: pulumi.Input[str] | None = None


class DriftMonitor(pulumi.ComponentResource):
    """The job definition, the hourly schedule and the drift alarm of one endpoint."""

    def __init__(self, name: str, args: DriftMonitorArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:DriftMonitor", name, None, opts)
        names, region, model = args.names, args.region, args.model
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        prefix = pulumi.Output.concat("s3://", args.models_bucket, f"/monitoring/{model}")
        definition_name = names.resource(f"{model}-dq", region)     # names of at most 63 characters
        self.definition = aws.sagemaker.DataQualityJobDefinition(
            definition_name, name=definition_name, role_arn=args.execution_role_arn,
            data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
                image_uri=analyzer_image(region), environment={"publish_cloudwatch_metrics": "Enabled"}),
            data_quality_baseline_config=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
                constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                    s3_uri=pulumi.Output.concat(prefix, "/baseline/constraints.json")),
                statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                    s3_uri=pulumi.Output.concat(prefix, "/baseline/statistics.json"))),
            data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                    endpoint_name=args.endpoint_name, local_path="/opt/ml/processing/input/endpoint")),
            data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                kms_key_id=args.models_key_arn,
                monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                    s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                        s3_uri=pulumi.Output.concat(prefix, "/reports"), local_path="/opt/ml/processing/output",
                        s3_upload_mode="EndOfJob"))),
            job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                    instance_count=1, instance_type=INSTANCE_TYPE, volume_size_in_gb=30,
                    volume_kms_key_id=args.models_key_arn)),
            network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(
                enable_network_isolation=True, enable_inter_container_traffic_encryption=True,
                vpc_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
                    subnets=args.subnet_ids, security_group_ids=[args.security_group_id])),
            stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(
                max_runtime_in_seconds=1800),
            opts=child)
        schedule_name = names.resource(f"{model}-drift", region)
        self.schedule = aws.sagemaker.MonitoringSchedule(
            schedule_name, name=schedule_name,
            monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
                monitoring_job_definition_name=self.definition.name, monitoring_type="DataQuality",
                schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                    schedule_expression=SCHEDULE)),
            opts=child)
        dimensions = {"Endpoint": args.endpoint_name, "MonitoringSchedule": schedule_name}
        ids = [f"f{index}" for index in range(len(args.features))]
        queries = [aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=id_, return_data=False, label=feature,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=METRICS_NAMESPACE, metric_name=f"feature_baseline_drift_{feature}",
                dimensions=dimensions, period=3600, stat="Maximum"))
            for id_, feature in zip(ids, args.features, strict=True)]
        actions = [args.alarm_topic_arn] if args.alarm_topic_arn else []
        self.alarm = aws.cloudwatch.MetricAlarm(
            names.resource(f"{model}-drift", region), name=names.resource(f"{model}-drift", region),
            alarm_description=f"{model} in {region}: a feature of the captured requests drifted from the training "
                              f"baseline by more than {args.threshold} ({', '.join(args.features)})",
            metric_queries=[*queries, aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="drift", expression=f"MAX([{', '.join(ids)}])", label="largest drift", return_data=True)],
            comparison_operator="GreaterThanThreshold", threshold=args.threshold, evaluation_periods=1,
            treat_missing_data="notBreaching", alarm_actions=actions, ok_actions=actions, opts=child)
        self.register_outputs({"schedule": self.schedule.name, "alarm": self.alarm.name})
