"""The `tenancy` section of a team stack: the team's namespace in the platform's clusters."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Model, Section
from .compute import ROLE_ARN


class Quota(Model):
    """What one team's namespace may request in total (Kubernetes quantities)."""

    cpu: str = Field(pattern=r"^\d+(\.\d+)?m?$", description="CPU cores, e.g. '16' or '500m'")
    memory: str = Field(pattern=r"^\d+(Ki|Mi|Gi|Ti)?$", description="e.g. '64Gi'")
    gpus: int = Field(ge=0, le=512, description="requests.nvidia.com/gpu (time-sliced replicas count)")


class TenancyConfig(Section):
    """A team's slice of the platform's clusters: a namespace per region with this quota."""

    DEFAULTS = {
        "dev": {"quota": {"cpu": "16", "memory": "64Gi", "gpus": 2}},
        "staging": {"quota": {"cpu": "32", "memory": "128Gi", "gpus": 4}},
        "prod": {"quota": {"cpu": "64", "memory": "256Gi", "gpus": 8}},
    }

    quota: Quota
    access_role_arns: list[Annotated[str, Field(pattern=ROLE_ARN)]] = Field(
        default_factory=list,
        description="IAM roles of the team's people, given edit rights in the team's namespace only",
    )
