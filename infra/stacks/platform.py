"""A platform stack: keys for logs, identity, and a VPC per region."""

from __future__ import annotations

import pulumi

from infra import documents
from infra.components import cluster_iam
from infra.components.encryption import Encryption, EncryptionArgs, KeyDomain
from infra.components.feature_store import CatalogEncryption, CatalogEncryptionArgs
from infra.components.identity import PlatformIdentity, PlatformIdentityArgs
from infra.components.network import Network, NetworkArgs
from infra.naming import names as names_of
from infra.providers import regional_providers
from infra.stacks.compute import build_clusters
from platform_lib.config.schema import PlatformConfig


def build(config: PlatformConfig) -> dict[str, pulumi.Input]:
    """Compose the platform's components and return its contract outputs (PlatformOutputs)."""
    names = names_of(config)
    providers = regional_providers(config)
    primary = providers[config.primary_region]
    logs_key = KeyDomain("CloudWatch Logs of the platform", config.regions,
                         extra_statements=lambda account, region: [documents.logs_key_statement(account, region)])
    eks_key = KeyDomain("Kubernetes secrets and node volumes of the platform", config.regions,
                        via_services=["eks", "ec2"],
                        extra_statements=lambda account, region: [cluster_iam.node_volume_key_statement(account)])
    catalog_key = KeyDomain("Glue Data Catalog of the account", config.regions, via_services=["glue"])
    domains = {"logs": logs_key, "catalog": catalog_key, "eks": eks_key}
    keys = Encryption(names.resource("keys"), EncryptionArgs(names, domains, protect=config.protect_stateful),
                      providers)
    for region in config.regions:   # one catalog per account and region, shared by the teams
        CatalogEncryption(names.resource("catalog-encryption", region),
                          CatalogEncryptionArgs(keys.arn("catalog", region)), providers[region])
    identity = PlatformIdentity(
        names.resource("identity"),
        PlatformIdentityArgs(names, github_org=config.ci.github_org, github_repo=config.ci.github_repo,
                             oidc_provider_arn=config.ci.oidc_provider_arn),
        primary,
    )
    net = config.network
    networks = {
        region: Network(
            names.resource("network", region),
            NetworkArgs(
                names, region, cidr=net.cidrs[region], az_count=net.az_count, nat=net.nat,
                endpoints_multi_az=net.endpoints_multi_az, log_retention_days=config.logs.retention_days,
                logs_key_arn=keys.arn("logs", region), flow_logs_role_arn=identity.flow_logs_role.arn,
            ),
            provider=providers[region],
        )
        for region in config.regions
    }
    clusters = build_clusters(
        config, providers, keys.arns("eks"), keys.arns("logs"), identity.workload_boundary.arn, identity.ci_role.arn,
        {region: [s.id for s in net.private_subnets] for region, net in networks.items()},
        {region: str(config.network.cidrs[region]) for region in config.regions},
    )
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
        "clusters": clusters,
    }
