"""A prod EKS cluster with its API endpoint on the internet (everything else as the platform does it)."""

import pulumi
import pulumi_aws as aws

provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {
    "team": "shadow", "env": "prod", "cost-center": "shadow"}})
aws.eks.Cluster(
    "shadow-eks",
    name="shadow-prod-eks",
    role_arn="arn:aws:iam::222222222222:role/shadow-prod-eks",
    version="1.32",
    vpc_config={"subnet_ids": ["subnet-0a", "subnet-0b"], "endpoint_private_access": True,
                "endpoint_public_access": True},
    encryption_config={"resources": ["secrets"],
                       "provider": {"key_arn": "arn:aws:kms:eu-west-1:222222222222:key/0b1c2d3e"}},
    enabled_cluster_log_types=["api", "audit", "authenticator", "controllerManager", "scheduler"],
    opts=pulumi.ResourceOptions(provider=provider),
)
