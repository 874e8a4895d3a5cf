"""SageMaker guardrails: deny statements that keep every job, model and endpoint configuration a
workload role creates inside the platform's VPC, isolated, and encrypted with the expected keys.

Which condition key each API supports is AWS's service authorization reference for SageMaker; a key
an action does not support is never in the request, so each statement names only the actions whose
requests carry its key.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.documents import Statement, deny

# Actions whose requests carry sagemaker:VpcSubnets / VpcSecurityGroupIds and NetworkIsolation.
VPC_ACTIONS = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob",
               "sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateModel"]
# ... sagemaker:InterContainerTrafficEncryption (distributed jobs only; models have no such setting).
TRAFFIC_ENCRYPTION_ACTIONS = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob",
                              "sagemaker:CreateHyperParameterTuningJob"]
# ... sagemaker:OutputKmsKey (every job writes outputs to S3).
OUTPUT_KEY_ACTIONS = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob",
                      "sagemaker:CreateTransformJob", "sagemaker:CreateHyperParameterTuningJob"]
# ... sagemaker:VolumeKmsKey. Not required: instance types with local NVMe storage (g5, p4d ...)
# refuse a volume key and encrypt that storage in hardware; a key that is given must be an expected one.
VOLUME_KEY_ACTIONS = OUTPUT_KEY_ACTIONS + ["sagemaker:CreateEndpointConfig"]


def sagemaker_guardrails(subnet_ids: Sequence[str], security_group_ids: Sequence[str],
                         key_arns: Sequence[str]) -> list[Statement]:
    """Deny creating SageMaker jobs, models and endpoint configs outside `subnet_ids` and
    `security_group_ids`, without network isolation and inter-container traffic encryption, or with
    output/volume keys other than `key_arns` (ARN patterns allowed)."""
    resources = "*"
    subnets, groups, keys = list(subnet_ids), list(security_group_ids), list(key_arns)
    return [
        # A request without subnets has no VpcConfig: the API requires its security groups and subnets together.
        deny(VPC_ACTIONS, resources, "SageMakerOnlyInVpcSubnets", Null={"sagemaker:VpcSubnets": "true"}),
        deny(VPC_ACTIONS, resources, "SageMakerOnlyInPlatformSubnets",
             **{"ForAnyValue:StringNotEquals": {"sagemaker:VpcSubnets": subnets}}),
        deny(VPC_ACTIONS, resources, "SageMakerOnlyWithPlatformSecurityGroups",
             **{"ForAnyValue:StringNotEquals": {"sagemaker:VpcSecurityGroupIds": groups}}),
        deny(VPC_ACTIONS, resources, "SageMakerNetworkIsolation",
             BoolIfExists={"sagemaker:NetworkIsolation": "false"}),
        deny(TRAFFIC_ENCRYPTION_ACTIONS, resources, "SageMakerInterContainerEncryption",
             BoolIfExists={"sagemaker:InterContainerTrafficEncryption": "false"}),
        deny(OUTPUT_KEY_ACTIONS, resources, "SageMakerOutputKeyRequired", Null={"sagemaker:OutputKmsKey": "true"}),
        deny(OUTPUT_KEY_ACTIONS, resources, "SageMakerOutputKeyExpected",
             ArnNotLike={"sagemaker:OutputKmsKey": keys}),
        deny(VOLUME_KEY_ACTIONS, resources, "SageMakerVolumeKeyExpected",
             Null={"sagemaker:VolumeKmsKey": "false"}, ArnNotLike={"sagemaker:VolumeKmsKey": keys}),
    ]


def outside_vpc_denied() -> list[Statement]:
    """For roles SageMaker assumes that never run workloads (e.g. Feature Store's): no job or model
    outside a VPC, whatever a later policy grants."""
    return [deny(VPC_ACTIONS, "*", "SageMakerOnlyInVpcSubnets", Null={"sagemaker:VpcSubnets": "true"})]
