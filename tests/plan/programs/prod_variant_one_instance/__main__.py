"""A prod endpoint configuration, encrypted and capturing data, whose only variant runs on a single instance."""

import pulumi
import pulumi_aws as aws

KEY = "arn:aws:kms:eu-west-1:222222222222:key/11111111-2222-3333-4444-555555555555"
provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"team": "fraud", "env": "prod",
                                                                           "cost-center": "risk"}})
aws.sagemaker.EndpointConfiguration(
    "single-instance-config", kms_key_arn=KEY,
    production_variants=[{"variant_name": "AllTraffic", "model_name": "fraud-prod-scorer-model",
                          "instance_type": "ml.m5.large", "initial_instance_count": 1}],
    data_capture_config={"enable_capture": True, "initial_sampling_percentage": 20, "kms_key_id": KEY,
                         "destination_s3_uri": "s3://fraud-prod-models-222222222222-euw1/data-capture",
                         "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}]},
    opts=pulumi.ResourceOptions(provider=provider))
