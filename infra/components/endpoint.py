"""`SageMakerEndpoint`: one served model in one region, on SageMaker real-time hosting.

The Model runs in the platform's private subnets and SageMaker security group with network isolation,
as the team execution role; the EndpointConfiguration encrypts volumes and captured data with the
team's regional models key; the Endpoint releases new configurations blue/green (all at once, canary
or linear) and rolls back by itself when its 5xx-rate or latency alarm fires; Application Auto Scaling
keeps the variant between its minimum and maximum. Its log group is created first, encrypted and with
retention (workload roles may not create log groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.naming import Names
from platform_lib.config.schema.serving import ServedModel
from policies.support.sagemaker import VARIANT_DIMENSION, needs_volume_key

VARIANT = "AllTraffic"      # the same name in every configuration: blue/green needs it
ALARM_PERIOD = 60           # seconds; two breaching minutes in a row roll back
TRAFFIC_ROUTING = {"all-at-once": "ALL_AT_ONCE", "canary": "CANARY", "linear": "LINEAR"}


def image_uri(account_id: str, region: str, image: str) -> str:
    """The regional ECR replica of `fraud/serving:1.4.0`."""
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{image}"


@dataclass(frozen=True)
class SageMakerEndpointArgs:
    names: Names
    region: str
    model: ServedModel
    execution_role_arn: pulumi.Input[str]
    models_bucket: pulumi.Input[str]             # the team's models bucket of this region
    models_key_arn: pulumi.Input[str]            # the team's models key of this region
    subnet_ids: pulumi.Input[list[str]]          # the platform's private subnets of this region
    security_group_id: pulumi.Input[str]         # the platform's SageMaker security group of this region
    logs_key_arn: pulumi.Input[str]              # the platform's logs key of this region
    log_retention_days: int
    alarm_actions: tuple[pulumi.Input[str], ...] = ()   # e.g. the team's alarm topic


class SageMakerEndpoint(pulumi.ComponentResource):
    """Model, EndpointConfiguration, Endpoint (blue/green, auto-rollback), alarms, log group, autoscaling."""

    def __init__(self, name: str, args: SageMakerEndpointArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:SageMakerEndpoint", name, None, opts)
        model, names, region = args.model, args.names, args.region
        self.endpoint_name = names.resource(model.name, region)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.log_group = aws.cloudwatch.LogGroup(
            names.resource(f"{model.name}-endpoint-logs", region),
            name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}", kms_key_id=args.logs_key_arn,
            retention_in_days=args.log_retention_days, opts=child)
        # Model and configuration names are generated (logical name + suffix): a change replaces them,
        # the new one is created first and the endpoint moves to it blue/green.
        self.model = aws.sagemaker.Model(
            names.resource(f"{model.name}-model", region),
            execution_role_arn=args.execution_role_arn,
            primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                image=image_uri(names.account_id, region, model.image),
                model_data_url=pulumi.Output.concat("s3://", args.models_bucket, "/", model.model_data),
            ),
            vpc_config=aws.sagemaker.ModelVpcConfigArgs(
                subnets=args.subnet_ids, security_group_ids=[args.security_group_id]),
            enable_network_isolation=True,
            opts=child)
        instance_type = model.instance_type or ""
        capture = model.capture_percent
        self.configuration = aws.sagemaker.EndpointConfiguration(
            names.resource(f"{model.name}-config", region),
            kms_key_arn=args.models_key_arn if needs_volume_key(instance_type) else None,
            production_variants=[aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                variant_name=VARIANT, model_name=self.model.name, instance_type=instance_type,
                initial_instance_count=model.minimum, initial_variant_weight=1.0)],
            data_capture_config=aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                enable_capture=True, initial_sampling_percentage=capture,
                destination_s3_uri=pulumi.Output.concat("s3://", args.models_bucket, f"/data-capture/{model.name}"),
                kms_key_id=args.models_key_arn,
                capture_options=[aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(
                    capture_mode=mode) for mode in ("Input", "Output")],
            ) if capture else None,
            opts=child)
        self.alarms = self._alarms(args, child)
        self.endpoint = aws.sagemaker.Endpoint(
            names.resource(model.name, region), name=self.endpoint_name,
            endpoint_config_name=self.configuration.name,
            deployment_config=aws.sagemaker.EndpointDeploymentConfigArgs(
                blue_green_update_policy=_blue_green(model),
                auto_rollback_configuration=aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                    alarms=[aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(
                        alarm_name=alarm.name) for alarm in self.alarms.values()]),
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.log_group]))
        resource_id = f"endpoint/{self.endpoint_name}/variant/{VARIANT}"
        self.scaling_target = aws.appautoscaling.Target(
            names.resource(f"{model.name}-scaling", region),
            service_namespace="sagemaker", scalable_dimension=VARIANT_DIMENSION,
            resource_id=resource_id, min_capacity=model.minimum, max_capacity=model.max_capacity,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.endpoint]))
        self.scaling_policy = aws.appautoscaling.Policy(
            names.resource(f"{model.name}-invocations", region),
            policy_type="TargetTrackingScaling", service_namespace="sagemaker",
            scalable_dimension=VARIANT_DIMENSION, resource_id=self.scaling_target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(model.scaling_target),
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"),
                scale_in_cooldown=300, scale_out_cooldown=60),
            opts=child)
        self.register_outputs({"endpoint": self.endpoint.name, "alarms": [a.name for a in self.alarms.values()]})

    def _alarms(self, args: SageMakerEndpointArgs,
                child: pulumi.ResourceOptions) -> dict[str, aws.cloudwatch.MetricAlarm]:
        """The 5xx share of invocations and the p99 model latency of the variant, per minute."""
        model, names, region = args.model, args.names, args.region
        dimensions = {"EndpointName": self.endpoint_name, "VariantName": VARIANT}

        def metric(id_: str, metric_name: str, stat: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(id=id_, return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/SageMaker", metric_name=metric_name, dimensions=dimensions, period=ALARM_PERIOD,
                    stat=stat))

        common: dict[str, Any] = dict(
            comparison_operator="GreaterThanThreshold", evaluation_periods=2, datapoints_to_alarm=2,
            treat_missing_data="notBreaching", alarm_actions=list(args.alarm_actions),
            ok_actions=list(args.alarm_actions), opts=child)
        errors = aws.cloudwatch.MetricAlarm(
            names.resource(f"{model.name}-5xx", region), name=names.resource(f"{model.name}-5xx", region),
            alarm_description=f"{self.endpoint_name}: more than {model.error_alarm_percent}% of invocations fail "
                              f"(5xx); rolls a release back",
            threshold=float(model.error_alarm_percent),
            metric_queries=[metric("errors", "Invocation5XXErrors", "Sum"), metric("invocations", "Invocations", "Sum"),
                            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                                id="rate", expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                                label="5xx %", return_data=True)],
            **common)
        latency = aws.cloudwatch.MetricAlarm(
            names.resource(f"{model.name}-latency", region), name=names.resource(f"{model.name}-latency", region),
            alarm_description=f"{self.endpoint_name}: p99 model latency above {model.latency_alarm_ms} ms; "
                              f"rolls a release back",
            namespace="AWS/SageMaker", metric_name="ModelLatency", dimensions=dimensions, period=ALARM_PERIOD,
            extended_statistic="p99", threshold=float(model.latency_alarm_ms * 1000),  # microseconds
            **common)
        return {"5xx": errors, "latency": latency}


def _blue_green(model: ServedModel) -> aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs:
    """Traffic shifting of a release: all at once, a canary share then the rest, or linear steps; each
    step bakes `waitMinutes` with the alarms watched, and the old fleet is kept until the last one passes."""
    rollout = model.release
    wait = rollout.wait_minutes * 60
    step = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
        type="CAPACITY_PERCENT", value=rollout.percent)
    linear = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSizeArgs(
        type="CAPACITY_PERCENT", value=rollout.percent)
    steps = 1 if rollout.strategy != "linear" else -(-100 // rollout.percent)
    return aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
        traffic_routing_configuration=(
            aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
                type=TRAFFIC_ROUTING[rollout.strategy], wait_interval_in_seconds=wait,
                canary_size=step if rollout.strategy == "canary" else None,
                linear_step_size=linear if rollout.strategy == "linear" else None)),
        termination_wait_in_seconds=wait if rollout.strategy != "all-at-once" else 0,
        maximum_execution_timeout_in_seconds=min(14400, max(600, (steps + 1) * wait + 1800)),
    )
