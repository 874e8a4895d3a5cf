"""One explicit AWS provider per region, in a loop; default tags live on the providers."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platform_lib.config.schema import PlatformConfig, TeamConfig

from .naming import region_code, tags


def regional_providers(config: PlatformConfig | TeamConfig) -> dict[str, aws.Provider]:
    """`{region: provider}` for every region of the stack, pinned to the stack's account."""
    default_tags = tags(config, pulumi.get_stack())
    return {
        region: aws.Provider(
            f"aws-{region_code(region)}",
            region=region,
            allowed_account_ids=[config.account_id],
            default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags),
        )
        for region in config.regions
    }
