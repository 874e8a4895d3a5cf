"""Facts about SageMaker hosting that the serving components, the delivery library and the serving rules share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .links import urn_of
from .unknowns import props_of

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

# AWS's accounts of the Model Monitor analyzer image (SageMaker's Docker registry paths, per region).
ANALYZER_ACCOUNTS = {
    "us-east-1": "156813124566", "us-east-2": "777275614652", "us-west-1": "890145073186",
    "us-west-2": "159807026194", "ca-central-1": "536280801234", "eu-west-1": "468650794304",
    "eu-west-2": "749857270468", "eu-west-3": "680080141114", "eu-central-1": "048819808253",
    "eu-north-1": "895015795356", "ap-northeast-1": "574779866223", "ap-northeast-2": "709848358524",
    "ap-southeast-1": "245545462676", "ap-southeast-2": "563025443158", "ap-south-1": "126357580389",
    "sa-east-1": "539772159869",
}


def analyzer_image(region: str) -> str:
    if region not in ANALYZER_ACCOUNTS:
        raise ValueError(f"no Model Monitor analyzer image known for {region}; known: {sorted(ANALYZER_ACCOUNTS)}")
    return f"{ANALYZER_ACCOUNTS[region]}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"


def instance_family(instance_type: str) -> str:
    """`ml.g5.xlarge` -> `g5`."""
    parts = instance_type.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "ml" else ""


def needs_volume_key(instance_type: str) -> bool:
    """Whether an endpoint variant on this instance type has an EBS volume that a KMS key encrypts."""
    return instance_family(instance_type) not in LOCAL_STORAGE_FAMILIES


def configuration_of(endpoint: Any, configurations: Sequence[Any]) -> Any | None:
    """The endpoint configuration an endpoint uses: by name, else the configuration it depends on (under
    mocks and in previews a generated name is not an input yet). None: not in the stack."""
    name = props_of(endpoint).get("endpointConfigName")
    by_name = [c for c in configurations if name is not None and props_of(c).get("name") == name]
    if by_name:
        return by_name[0]
    urns = {urn_of(dependency) for dependency in getattr(endpoint, "dependencies", None) or []}
    return next((c for c in configurations if c.urn in urns), None)
