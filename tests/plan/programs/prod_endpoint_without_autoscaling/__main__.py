"""A prod endpoint, encrypted, capturing data, on 2 instances, rolled back on an alarm, monitored for drift,
but with no Application Auto Scaling target on its variant."""

import pulumi
import pulumi_aws as aws

KEY = "arn:aws:kms:eu-west-1:222222222222:key/11111111-2222-3333-4444-555555555555"
BUCKET = "s3://fraud-prod-models-222222222222-euw1"
provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"team": "fraud", "env": "prod",
                                                                           "cost-center": "risk"}})
opts = pulumi.ResourceOptions(provider=provider)
config = aws.sagemaker.EndpointConfiguration(
    "unscaled-config", kms_key_arn=KEY,
    production_variants=[{"variant_name": "AllTraffic", "model_name": "fraud-prod-scorer-model",
                          "instance_type": "ml.m5.large", "initial_instance_count": 2}],
    data_capture_config={"enable_capture": True, "initial_sampling_percentage": 20, "kms_key_id": KEY,
                         "destination_s3_uri": f"{BUCKET}/data-capture",
                         "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}]},
    opts=opts)
endpoint = aws.sagemaker.Endpoint(
    "unscaled-endpoint", name="fraud-prod-unscaled", endpoint_config_name=config.name,
    deployment_config={"blue_green_update_policy": {"traffic_routing_configuration": {
        "type": "CANARY", "wait_interval_in_seconds": 600, "canary_size": {"type": "CAPACITY_PERCENT", "value": 10}}},
        "auto_rollback_configuration": {"alarms": [{"alarm_name": "fraud-prod-unscaled-5xx"}]}},
    opts=opts)
definition = aws.sagemaker.DataQualityJobDefinition(
    "unscaled-drift", name="fraud-prod-unscaled-drift",
    role_arn="arn:aws:iam::222222222222:role/fraud-prod-sagemaker-execution",
    data_quality_app_specification={"image_uri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/"
                                                 "sagemaker-model-monitor-analyzer"},
    data_quality_job_input={"endpoint_input": {"endpoint_name": endpoint.name,
                                               "local_path": "/opt/ml/processing/input/endpoint"}},
    data_quality_job_output_config={"kms_key_id": KEY, "monitoring_outputs": {"s3_output": {
        "s3_uri": f"{BUCKET}/monitoring/reports", "local_path": "/opt/ml/processing/output"}}},
    job_resources={"cluster_config": {"instance_count": 1, "instance_type": "ml.m5.xlarge",
                                      "volume_size_in_gb": 30, "volume_kms_key_id": KEY}},
    opts=opts)
aws.sagemaker.MonitoringSchedule(
    "unscaled-drift-hourly", name="fraud-prod-unscaled-drift-hourly",
    monitoring_schedule_config={"monitoring_job_definition_name": definition.name, "monitoring_type": "DataQuality",
                                "schedule_config": {"schedule_expression": "cron(0 * ? * * *)"}},
    opts=opts)
