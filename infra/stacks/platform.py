"""A platform stack: keys for logs, identity, and a VPC per region."""

from __future__ import annotations

import pulumi

from infra import documents
from infra.components.encryption import Encryption, KeyDomain
from infra.components.identity import PlatformIdentity
from infra.components.network import Network
from infra.naming import resource_name
from infra.providers import regional_providers
from platform_lib.config.schema import PlatformConfig


def build(config: PlatformConfig) -> dict[str, pulumi.Input]:
    """Compose the platform's components and return its contract outputs (PlatformOutputs)."""
    providers = regional_providers(config)
    primary = providers[config.primary_region]
    keys = Encryption(
        resource_name(config, "keys"), config,
        {"logs": KeyDomain("CloudWatch Logs of the platform", config.regions,
                           extra_statements=lambda account, region: [documents.logs_key_statement(account, region)])},
        providers,
    )
    identity = PlatformIdentity(resource_name(config, "identity"), config, primary)
    networks = {
        region: Network(
            resource_name(config, "network", region), config, region,
            logs_key_arn=keys.arn("logs", region), flow_logs_role_arn=identity.flow_logs_role.arn,
            provider=providers[region],
        )
        for region in config.regions
    }
    return {
        "kind": "platform",
        "environment": config.environment,
        "accountId": config.account_id,
        "primaryRegion": config.primary_region,
        "regions": config.regions,
        "workloadBoundaryArn": identity.workload_boundary.arn,
        "ciRoleArn": identity.ci_role.arn,
        "logsKeyArns": keys.arns("logs"),
        "networks": {
            region: {
                "vpcId": net.vpc.id,
                "privateSubnetIds": [s.id for s in net.private_subnets],
                "publicSubnetIds": [s.id for s in net.public_subnets],
                "endpointSecurityGroupId": net.endpoint_security_group.id,
            }
            for region, net in networks.items()
        },
    }
