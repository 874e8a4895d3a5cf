"""A platform stack: what all teams of one environment share."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .base import Invalid
from .ci import CiConfig
from .compute import ComputeConfig
from .network import NetworkConfig
from .registries import ContainerRegistryConfig
from .security import BaselineConfig
from .stack import StackBase
from .tracking import TrackingConfig


class PlatformConfig(StackBase):
    """A shared platform for one environment: network, shared keys, CI identity."""

    kind: Literal["platform"]
    network: NetworkConfig
    ci: CiConfig
    container_registry: ContainerRegistryConfig
    tracking: TrackingConfig
    baseline: BaselineConfig
    compute: ComputeConfig

    @model_validator(mode="after")
    def _network_covers_regions(self) -> PlatformConfig:
        missing = [r for r in self.regions if r not in self.network.cidrs]
        extra = [r for r in self.network.cidrs if r not in self.regions]
        if missing:
            raise Invalid(f"no CIDR for {', '.join(missing)}; every region "
                          f"(primaryRegion and servingRegions) needs one", at=("network", "cidrs"))
        if extra:
            raise Invalid(f"{', '.join(extra)} is neither primaryRegion nor in "
                          f"servingRegions", at=("network", "cidrs", extra[0]))
        if self.environment == "prod":
            if self.network.az_count < 2:
                raise Invalid(f"prod requires at least 2 AZs (multi-AZ), not {self.network.az_count}",
                              at=("network", "azCount"))
            if self.network.nat == "single":
                raise Invalid("prod requires per-az (a NAT gateway per AZ) or none (no internet egress; the "
                              "recommendation for regulated teams), not single", at=("network", "nat"))
        self.compute.check_environment(self.environment, self.network.az_count)
        return self

    @model_validator(mode="after")
    def _oidc_provider_in_account(self) -> PlatformConfig:
        arn = self.ci.oidc_provider_arn
        if arn and arn.split(":")[4] != self.account_id:
            raise Invalid(f"{arn} is in account {arn.split(':')[4]}, not in accountId "
                          f"{self.account_id}; the CI role can only trust a provider of its own account",
                          at=("ci", "oidcProviderArn"))
        return self
