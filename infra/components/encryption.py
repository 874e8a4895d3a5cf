"""Customer-managed KMS keys, one per domain (data, models, logs ...) and region."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import resource_name
from platform_lib.config.schema import PlatformConfig, TeamConfig


@dataclass(frozen=True)
class KeyDomain:
    """A class of data sharing one key per region."""

    description: str
    regions: Sequence[str]
    via_services: Sequence[str] = ()   # AWS services through which the account's principals may use it
    extra_statements: Callable[[str, str], list[documents.Statement]] = field(default=lambda account, region: [])


class Encryption(pulumi.ComponentResource):
    """Keys rotate yearly, wait 30 days before deletion, are protected in prod and never deleted with
    the stack; their policies let the account administer them and use them only through named services."""

    def __init__(
        self,
        name: str,
        config: PlatformConfig | TeamConfig,
        domains: dict[str, KeyDomain],
        providers: dict[str, aws.Provider],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("ml-platform:security:Encryption", name, None, opts)
        self.keys: dict[tuple[str, str], aws.kms.Key] = {}
        for domain, spec in domains.items():
            for region in spec.regions:
                key_name = resource_name(config, domain, region)
                policy = documents.key_policy(
                    config.account_id, region, list(spec.via_services),
                    *spec.extra_statements(config.account_id, region),
                )
                key = aws.kms.Key(
                    key_name,
                    description=f"{spec.description} ({resource_name(config, domain)}, {region})",
                    enable_key_rotation=True,
                    rotation_period_in_days=365,
                    deletion_window_in_days=30,
                    policy=pulumi.Output.json_dumps(policy),
                    opts=pulumi.ResourceOptions(
                        parent=self, provider=providers[region],
                        protect=config.protect_stateful, retain_on_delete=True,
                    ),
                )
                aws.kms.Alias(
                    f"{key_name}-alias",
                    name=f"alias/{resource_name(config, domain)}",
                    target_key_id=key.key_id,
                    opts=pulumi.ResourceOptions(parent=self, provider=providers[region]),
                )
                self.keys[(domain, region)] = key
        self.register_outputs({f"{d}-{r}": k.arn for (d, r), k in self.keys.items()})

    def arn(self, domain: str, region: str) -> pulumi.Output[str]:
        return self.keys[(domain, region)].arn

    def arns(self, domain: str) -> dict[str, pulumi.Output[str]]:
        """`{region: key ARN}` for one domain."""
        return {r: k.arn for (d, r), k in self.keys.items() if d == domain}
