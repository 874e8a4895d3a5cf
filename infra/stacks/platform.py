"""A platform stack: keys for logs, identity, and a VPC per region."""

from __future__ import annotations

import pulumi

from infra import documents
from infra.components.container_registry import ContainerRegistry, ContainerRegistryArgs
from infra.components.encryption import Encryption, EncryptionArgs, KeyDomain
from infra.components.feature_store import CatalogEncryption, CatalogEncryptionArgs
from infra.components.identity import PlatformIdentity, PlatformIdentityArgs
from infra.components.network import Network, NetworkArgs
from infra.components.observability import (
    AlertsArgs,
    PlatformObservability,
    PlatformObservabilityArgs,
    alerts_key_statement,
)
from infra.components.tracking import ExperimentTracking, TrackingArgs
from infra.naming import names as names_of
from infra.providers import regional_providers
from platform_lib.config.schema import PlatformConfig


def build(config: PlatformConfig) -> dict[str, pulumi.Input]:
    """Compose the platform's components and return its contract outputs (PlatformOutputs)."""
    names = names_of(config)
    providers = regional_providers(config)
    primary_region = config.primary_region
    primary = providers[primary_region]
    logs_key = KeyDomain("CloudWatch Logs of the platform", config.regions,
                         extra_statements=lambda account, region: [documents.logs_key_statement(account, region)])
    catalog_key = KeyDomain("Glue Data Catalog of the account", config.regions, via_services=["glue"])
    domains = {
        "logs": logs_key,
        "catalog": catalog_key,
        "images": KeyDomain("Container images of the platform", config.regions, via_services=["ecr"]),
        "alerts": KeyDomain("Alert topics of the platform", config.regions, via_services=["sns"],
                            extra_statements=lambda account, region: [alerts_key_statement(account)]),
        "tracking": KeyDomain("MLflow artifacts of the platform", [primary_region], via_services=["s3", "sagemaker"]),
    }
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
    images = config.container_registry
    registry = ContainerRegistry(
        names.resource("images"),
        ContainerRegistryArgs(names, config.primary_region, config.regions, images.repositories,
                              images.untagged_expiry_days, images.keep_releases, keys.arns("images"),
                              protect=config.protect_stateful),
        providers,
    )
    tracking = ExperimentTracking(
        names.resource("tracking"),
        TrackingArgs(names, primary_region, config.tracking.size, config.tracking.mlflow_version,
                     config.tracking.maintenance_window, keys.arn("tracking", primary_region),
                     identity.workload_boundary.arn, noncurrent_version_expiry_days=config.logs.retention_days,
                     protect=config.protect_stateful),
        primary,
    )
    observability = PlatformObservability(
        names.resource("observability"),
        PlatformObservabilityArgs(
            AlertsArgs(names, config.regions, primary_region, config.owners, keys.arns("alerts")),
            nat_gateway_ids={region: net.nat_gateway_ids for region, net in networks.items()},
        ),
        providers,
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
        "imageRepositories": registry.urls,
        "alertsTopicArns": observability.alerts.arns,
        "tracking": tracking.outputs(primary_region, keys.arn("tracking", primary_region)),
    }
