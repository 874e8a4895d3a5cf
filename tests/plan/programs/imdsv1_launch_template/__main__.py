"""A node launch template that still answers IMDSv1 (any pod could read the node role's credentials)."""

import pulumi
import pulumi_aws as aws

provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {
    "team": "shadow", "env": "prod", "cost-center": "shadow"}})
aws.ec2.LaunchTemplate(
    "legacy-nodes",
    name="legacy-nodes",
    metadata_options={"http_endpoint": "enabled", "http_tokens": "optional"},
    block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
        "volume_type": "gp3", "encrypted": "true",
        "kms_key_id": "arn:aws:kms:eu-west-1:222222222222:key/0b1c2d3e"}}],
    opts=pulumi.ResourceOptions(provider=provider),
)
