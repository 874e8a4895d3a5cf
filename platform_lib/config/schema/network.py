"""The platform's network: one VPC per region."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, Strict, model_validator

from .base import PER_ENVIRONMENT, Invalid, Region, Section


def private_cidr(network: IPv4Network) -> IPv4Network:
    if not network.is_private:
        raise ValueError(f"{network} is not a private (RFC 1918) range")
    if not 16 <= network.prefixlen <= 22:
        raise ValueError(f"{network} has prefix /{network.prefixlen}; allowed: /16 to /22")
    return network


# Strict(False): the one value parsed from text in a stack file.
VpcCidr = Annotated[IPv4Network, Strict(False), AfterValidator(private_cidr)]


class NetworkConfig(Section):
    """One VPC per region of the platform, with private and public subnets over `az_count` AZs."""

    DEFAULTS = {
        "dev": {"azCount": 2, "nat": "single", "endpointsMultiAz": False},
        "staging": {"azCount": 2, "nat": "single", "endpointsMultiAz": False},
        "prod": {"azCount": 3, "nat": "per-az", "endpointsMultiAz": True},
    }

    cidrs: dict[Region, VpcCidr] = Field(description="VPC CIDR per region", json_schema_extra=PER_ENVIRONMENT)
    az_count: int = Field(ge=1, le=6)
    nat: Literal["per-az", "single", "none"] = Field(
        description="per-az: a NAT gateway per AZ; single: one shared (cheap); none: private only"
    )
    endpoints_multi_az: bool = Field(
        description="interface endpoints in every AZ (resilient) or in the first only (cheap)"
    )

    @model_validator(mode="after")
    def _no_overlap(self) -> NetworkConfig:
        for (r1, c1), (r2, c2) in itertools.combinations(self.cidrs.items(), 2):
            if c1.overlaps(c2):
                raise Invalid(f"CIDR {c2} of {r2} overlaps {c1} of {r1}; VPCs must not overlap", at=("cidrs", r2))
        return self
