"""Names and tags come from here and nowhere else: `<scope>-<env>-<purpose>`."""

from __future__ import annotations

import re

from platform_lib.config.schema import PlatformConfig, TeamConfig

MANAGED_BY = "pulumi/ml-platform"
PURPOSE_TAG = "ml-platform/purpose"   # what a resource is for, when a policy must know (e.g. access-logs)


def scope(config: PlatformConfig | TeamConfig) -> str:
    """The owner of a stack's resources: the team, or 'platform' for shared stacks."""
    return config.team if isinstance(config, TeamConfig) else "platform"


def resource_name(config: PlatformConfig | TeamConfig, purpose: str, region: str | None = None) -> str:
    """`fraud-prod-models`, or `fraud-prod-models-use1` for a regional copy."""
    parts = [scope(config), config.environment, purpose] + ([region_code(region)] if region else [])
    return "-".join(parts)


def bucket_name(config: PlatformConfig | TeamConfig, purpose: str, region: str) -> str:
    """Globally unique S3 name: `<scope>-<env>-<purpose>-<account>-<region code>` (at most 63 chars)."""
    name = f"{resource_name(config, purpose)}-{config.account_id}-{region_code(region)}"
    if len(name) > 63:
        raise ValueError(f"bucket name {name!r} is longer than S3's 63 characters; shorten the team name")
    return name


def region_code(region: str) -> str:
    """`eu-west-1` -> `euw1`, `ap-southeast-2` -> `apse2`: short and unique per region."""
    area, *words, number = region.split("-")
    initials = "".join(_initials(w) for w in words)
    return f"{area}{initials}{number}"


def _initials(word: str) -> str:
    # "southeast" -> "se", "northeast" -> "ne", "central" -> "c"
    match = re.fullmatch(r"(north|south)(east|west)", word)
    return match.group(1)[0] + match.group(2)[0] if match else word[0]


def tags(config: PlatformConfig | TeamConfig, stack: str) -> dict[str, str]:
    """Tags every AWS resource carries, through the providers' default_tags."""
    return {
        "team": scope(config),
        "env": config.environment,
        "cost-center": config.cost_center,
        "managed-by": MANAGED_BY,
        "ml-platform/stack": stack,
    }
