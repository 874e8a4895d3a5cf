"""Typed stack configuration: one schema for platform stacks and team stacks.

Keys are camelCase in YAML (Pulumi's convention) and snake_case in Python. Environment-dependent
defaults live in ``ENVIRONMENT_DEFAULTS`` and are filled in before validation, so a stack file only
states what differs from its environment's defaults.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import itertools
import re
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from . import compute as _compute
from .compute import ComputeConfig, TenancyConfig
from .regions import AWS_REGIONS

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")

# What each environment gets unless its stack file says otherwise.
ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "network": {"azCount": 2, "nat": "single", "endpointsMultiAz": False},
        "logs": {"retentionDays": 30},
        "storage": {"noncurrentVersionExpiryDays": 30},
        "compute": _compute.DEFAULTS["dev"],
        "tenancy": _compute.TENANCY_DEFAULTS["dev"],
    },
    "staging": {
        "network": {"azCount": 2, "nat": "single", "endpointsMultiAz": False},
        "logs": {"retentionDays": 90},
        "storage": {"noncurrentVersionExpiryDays": 90},
        "compute": _compute.DEFAULTS["staging"],
        "tenancy": _compute.TENANCY_DEFAULTS["staging"],
    },
    "prod": {
        "network": {"azCount": 3, "nat": "per-az", "endpointsMultiAz": True},
        "logs": {"retentionDays": 365},
        "storage": {"noncurrentVersionExpiryDays": 365},
        "compute": _compute.DEFAULTS["prod"],
        "tenancy": _compute.TENANCY_DEFAULTS["prod"],
    },
}

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

_SLUG = r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"


def _known_region(value: str) -> str:
    if value not in AWS_REGIONS:
        near = difflib.get_close_matches(value, AWS_REGIONS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ValueError(f"unknown AWS region {value!r}{hint}; allowed: {', '.join(sorted(AWS_REGIONS))}")
    return value


def _account_id(value: Any) -> str:
    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str) or not re.fullmatch(r"\d{12}", text):
        raise ValueError("must be a 12-digit AWS account id in quotes, e.g. '123456789012'")
    return text


def _private_cidr(network: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    if not network.is_private:
        raise ValueError(f"{network} is not a private (RFC 1918) range")
    if not 16 <= network.prefixlen <= 22:
        raise ValueError(f"{network} has prefix /{network.prefixlen}; allowed: /16 to /22")
    return network


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch retention period; allowed: {LOG_RETENTION_DAYS}")
    return value


def to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


Region = Annotated[str, AfterValidator(_known_region)]
AccountId = Annotated[str, BeforeValidator(_account_id)]
Slug = Annotated[str, Field(pattern=_SLUG, description="lowercase letters, digits and '-', 3-20 chars")]
Email = Annotated[str, Field(pattern=_EMAIL)]
VpcCidr = Annotated[IPv4Network, AfterValidator(_private_cidr)]
RetentionDays = Annotated[int, AfterValidator(_log_retention)]


class Model(BaseModel):
    """Strict base: unknown keys are errors, YAML keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=False
    )


class NetworkConfig(Model):
    """One VPC per region of the platform, with private and public subnets over `az_count` AZs."""

    cidrs: dict[Region, VpcCidr] = Field(description="VPC CIDR per region")
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
                raise ValueError(f"CIDR {c1} of {r1} overlaps {c2} of {r2}; VPCs must not overlap")
        return self


class CiConfig(Model):
    """The CI deploy role that GitHub Actions assumes through OIDC (no static keys)."""

    github_org: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")]
    github_repo: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$",
        description="reuse the account's existing GitHub OIDC provider instead of creating one",
    )


class LogsConfig(Model):
    retention_days: RetentionDays


class StorageConfig(Model):
    """Lifecycle of the team's data lake."""

    tiering_after_days: int = Field(default=0, ge=0, description="move to Intelligent-Tiering")
    raw_archive_after_days: int = Field(default=90, ge=1, description="raw tier to Glacier Deep Archive")
    noncurrent_version_expiry_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _archive_after_tiering(self) -> StorageConfig:
        if self.raw_archive_after_days <= self.tiering_after_days:
            raise ValueError("rawArchiveAfterDays must come after tieringAfterDays (S3 lifecycle order)")
        return self


class StackBase(Model):
    environment: Environment
    account_id: AccountId
    primary_region: Region
    serving_regions: list[Region] = Field(
        default_factory=list, description="regions that serve models; empty means the primary only"
    )
    cost_center: Slug
    owners: list[Email] = Field(min_length=1)
    logs: LogsConfig

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("environment") not in ENVIRONMENT_DEFAULTS:
            return data
        merged = copy.deepcopy(data)
        for section, defaults in ENVIRONMENT_DEFAULTS[data["environment"]].items():
            if to_snake(section) not in cls.model_fields:
                continue
            given = merged.get(section)
            if given is None:
                merged[section] = dict(defaults)
            elif isinstance(given, dict):
                merged[section] = {**defaults, **given}
        return merged

    @model_validator(mode="after")
    def _serving_regions_unique(self) -> StackBase:
        if len(set(self.serving_regions)) != len(self.serving_regions):
            raise ValueError("servingRegions lists a region twice")
        return self

    @property
    def serving(self) -> list[str]:
        """The regions that serve models (the primary alone unless servingRegions says more)."""
        return self.serving_regions or [self.primary_region]

    @property
    def regions(self) -> list[str]:
        """Every region of the stack: the primary first, then the other serving regions."""
        return [self.primary_region] + [r for r in self.serving if r != self.primary_region]

    @property
    def protect_stateful(self) -> bool:
        """Prod keeps buckets, keys and registries behind Pulumi's `protect`."""
        return self.environment == "prod"


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


class TeamConfig(StackBase):
    """One team's isolated slice in one environment."""

    kind: Literal["team"]
    team: Slug
    platform_stack: str | None = Field(default=None, description="defaults to platform-<environment>")
    storage: StorageConfig
    tenancy: TenancyConfig

    @property
    def platform_stack_name(self) -> str:
        return self.platform_stack or f"platform-{self.environment}"

    @model_validator(mode="after")
    def _team_is_not_platform(self) -> TeamConfig:
        if self.team == "platform":
            raise ValueError("team 'platform' is reserved for the shared platform stacks")
        return self


StackConfig = Annotated[PlatformConfig | TeamConfig, Field(discriminator="kind")]
