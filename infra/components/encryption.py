"""Customer-managed KMS keys, one per domain (data, models, logs ...) and region."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import Names


@dataclass(frozen=True)
class KeyDomain:
    """A class of data sharing one key per region."""

    description: str
    regions: Sequence[str]
    via_services: Sequence[str] = ()   # AWS services through which the account's principals may use it
    extra_statements: Callable[[str, str], list[documents.Statement]] = field(default=lambda account, region: [])


@dataclass(frozen=True)
class EncryptionArgs:
    """The keys of one stack: a key per domain and region."""

    names: Names
    domains: dict[str, KeyDomain]
    protect: bool                      # Pulumi `protect` on the keys (prod)


class Encryption(pulumi.ComponentResource):
    """Keys rotate yearly, wait 30 days before deletion, are protected in prod and never deleted with
    the stack; their policies let the account administer them and use them only through named services."""

    def __init__(
        self,
        name: str,
        args: EncryptionArgs,
        providers: dict[str, aws.Provider],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("ml-platform:security:Encryption", name, None, opts)
        names, account = args.names, args.names.account_id
        self.keys: dict[tuple[str, str], aws.kms.Key] = {}
        for domain, spec in args.domains.items():
            for region in spec.regions:
                key_name = names.resource(domain, region)
                policy = documents.key_policy(
                    account, region, list(spec.via_services), *spec.extra_statements(account, region),
                )
                key = aws.kms.Key(
                    key_name,
                    description=f"{spec.description} ({names.resource(domain)}, {region})",
                    enable_key_rotation=True,
                    rotation_period_in_days=365,
                    deletion_window_in_days=30,
                    policy=pulumi.Output.json_dumps(policy),
                    opts=pulumi.ResourceOptions(
                        parent=self, provider=providers[region],
                        protect=args.protect, retain_on_delete=True,
                    ),
                )
                aws.kms.Alias(
                    f"{key_name}-alias",
                    name=names.alias(domain),
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
