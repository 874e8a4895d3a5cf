"""Facts about SageMaker hosting that both the endpoint component and the serving rules use."""

from __future__ import annotations

# Instance families whose storage is local NVMe: SageMaker refuses a volume KMS key for them (the
# instance store is encrypted in hardware). Every other family must name a volume key.
LOCAL_STORAGE_FAMILIES = frozenset({
    "c5d", "m5d", "r5d", "c6id", "m6id", "r6id", "g4dn", "g5", "g6", "g6e", "p3dn", "p4d", "p4de", "p5", "p5e",
    "trn1", "inf2",
})

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
MODEL = "aws:sagemaker/model:Model"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def instance_family(instance_type: str) -> str:
    """`ml.g5.xlarge` -> `g5`."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else ""


def needs_volume_key(instance_type: str) -> bool:
    """Whether an endpoint variant on this instance type has an EBS volume that a KMS key encrypts."""
    return instance_family(instance_type) not in LOCAL_STORAGE_FAMILIES
