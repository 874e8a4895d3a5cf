"""A team's own endpoint configuration, written by hand: no KMS key for its volumes or captured data."""

import pulumi
import pulumi_aws as aws

provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"team": "fraud", "env": "prod",
                                                                           "cost-center": "risk"}})
aws.sagemaker.EndpointConfiguration(
    "handmade-config",
    production_variants=[{"variant_name": "AllTraffic", "model_name": "fraud-prod-scorer-model",
                          "instance_type": "ml.m5.large", "initial_instance_count": 2}],
    data_capture_config={"enable_capture": True, "initial_sampling_percentage": 20,
                         "destination_s3_uri": "s3://fraud-prod-models-222222222222-euw1/data-capture",
                         "capture_options": [{"capture_mode": "Input"}]},
    opts=pulumi.ResourceOptions(provider=provider))
