"""A platform stack: what all teams of one environment share."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from .ci import CiConfig
from .compute import ComputeConfig
from .network import NetworkConfig
from .stack import StackBase


class PlatformConfig(StackBase):
    """A shared platform for one environment: network, shared keys, CI identity."""

    kind: Literal["platform"]
    network: NetworkConfig
    ci: CiConfig
    compute: ComputeConfig

    @model_validator(mode="after")
    def _network_covers_regions(self) -> PlatformConfig:
        missing = [r for r in self.regions if r not in self.network.cidrs]
        extra = [r for r in self.network.cidrs if r not in self.regions]
        if missing:
            raise ValueError(f"network.cidrs has no CIDR for region(s) {missing}; every region "
                             f"(primaryRegion and servingRegions) needs one")
        if extra:
            raise ValueError(f"network.cidrs names region(s) {extra} that are neither primaryRegion "
                             f"nor in servingRegions")
        if self.environment == "prod":
            if self.network.az_count < 2:
                raise ValueError("prod requires network.azCount >= 2 (multi-AZ)")
            if self.network.nat != "per-az":
                raise ValueError("prod requires network.nat: per-az (one NAT gateway per AZ)")
        self.compute.check_environment(self.environment, self.network.az_count)
        return self
