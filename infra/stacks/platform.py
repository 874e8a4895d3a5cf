"""A platform stack: keys, a VPC per region, identity, SageMaker's log groups and the account baseline."""

from __future__ import annotations

import pulumi

from infra import documents
from infra.components import cluster_iam
from infra.components.baseline import AccountBaseline, BaselineArgs, audit_key_statements
from infra.components.container_registry import ContainerRegistry, ContainerRegistryArgs
from infra.components.encryption import Encryption, EncryptionArgs, KeyDomain
from infra.components.feature_store import CatalogEncryption, CatalogEncryptionArgs
from infra.components.identity import CI_ROLE, EXECUTION_ROLE, PlatformIdentity, PlatformIdentityArgs
from infra.components.network import Network, NetworkArgs
from infra.components.observability import (
    AlertsArgs,
    PlatformObservability,
    PlatformObservabilityArgs,
    alerts_key_statement,
)
from infra.components.routing import ApiGatewayLogging
from infra.components.service_logs import ServiceLogs, ServiceLogsArgs
from infra.components.tracking import TRACKING_ROLE, ExperimentTracking, TrackingArgs
from infra.deploy_permissions import blueprint_types
from infra.naming import Names
from infra.naming import names as names_of
from infra.providers import regional_providers
from infra.stacks.compute import build_clusters
from platform_lib.config.schema import PlatformConfig


def build(config: PlatformConfig) -> dict[str, pulumi.Input]:
    """Compose the platform's components and return its contract outputs (PlatformOutputs)."""
    names = names_of(config)
    providers = regional_providers(config)
    primary = config.primary_region
    baseline = config.baseline
    domains = {
        "logs": KeyDomain("CloudWatch Logs of the platform", config.regions,
                          extra_statements=lambda account, region: [documents.logs_key_statement(account, region)]),
        # One catalog per account and region, shared by the teams: any principal of the account, through Glue.
        "catalog": KeyDomain("Glue Data Catalog of the account", config.regions, via_services=["glue"],
                             users=[names.account_principals()]),
        # CI creates the repositories and pushes images (ECR then holds its own grants to pull for others)
        "images": KeyDomain("Container images of the platform", config.regions, via_services=["ecr"],
                            users=[names.role_arn(CI_ROLE)]),
        "alerts": KeyDomain("Alert topics of the platform", config.regions, via_services=["sns"],
                            extra_statements=lambda account, region: [alerts_key_statement(account)]),
        # the server's role and every team's execution role read and write MLflow artifacts
        "tracking": KeyDomain("MLflow artifacts of the platform", [primary], via_services=["s3", "sagemaker"],
                              users=[names.role_arn(TRACKING_ROLE),
                                     Names("*", names.environment, names.account_id).role_arn(EXECUTION_ROLE)]),
    }
    domains["eks"] = KeyDomain(
        "Kubernetes secrets and node volumes of the platform", config.regions, via_services=["eks", "ec2"],
        extra_statements=lambda account, region: cluster_iam.node_volume_key_statements(account))
    if baseline.cloud_trail or baseline.config_recorder:
        domains["audit"] = KeyDomain("CloudTrail and AWS Config files of the account", [primary],
                                     extra_statements=lambda account, region: audit_key_statements(names, region))
    keys = Encryption(names.resource("keys"), EncryptionArgs(names, domains, protect=config.protect_stateful),
                      providers)
    for region in config.regions:
        CatalogEncryption(names.resource("catalog-encryption", region),
                          CatalogEncryptionArgs(keys.arn("catalog", region)), providers[region])
    net, retention = config.network, config.logs.retention_days
    networks = {
        region: Network(
            names.resource("network", region),
            NetworkArgs(
                names, region, cidr=net.cidrs[region], az_count=net.az_count, nat=net.nat,
                endpoints_multi_az=net.endpoints_multi_az, log_retention_days=retention,
                logs_key_arn=keys.arn("logs", region), organization_id=baseline.organization_id,
            ),
            provider=providers[region],
        )
        for region in config.regions
    }
    identity = PlatformIdentity(
        names.resource("identity"),
        PlatformIdentityArgs(
            names, github_org=config.ci.github_org, github_repo=config.ci.github_repo,
            oidc_provider_arn=config.ci.oidc_provider_arn, deployed_types=blueprint_types(),
            sagemaker_subnet_ids=pulumi.Output.all(*(s.id for n in networks.values() for s in n.private_subnets)),
            sagemaker_security_group_ids=pulumi.Output.all(
                *(n.sagemaker_security_group.id for n in networks.values())),
        ),
        providers[primary],
    )
    for region, network in networks.items():
        network.send_flow_logs(identity.flow_logs_role.arn)
        ServiceLogs(names.resource("service-logs", region),
                    ServiceLogsArgs(names, region, keys.arn("logs", region), retention), providers[region])
    # team front doors (serving routes) write access logs through API Gateway's account-level role
    ApiGatewayLogging(names.resource("apigateway-logging"), names, identity.workload_boundary.arn, providers)
    AccountBaseline(
        names.resource("baseline"),
        BaselineArgs(
            names, primary, config.regions, retention_days=retention,
            audit_key_arn=keys.arn("audit", primary) if "audit" in domains else None,
            account_public_access_block=baseline.account_public_access_block,
            ebs_encryption_by_default=baseline.ebs_encryption_by_default, cloud_trail=baseline.cloud_trail,
            guard_duty=baseline.guard_duty, config_recorder=baseline.config_recorder,
            protect=config.protect_stateful,
        ),
        providers,
    )
    images = config.container_registry
    registry = ContainerRegistry(
        names.resource("images"),
        ContainerRegistryArgs(names, primary, config.regions, images.repositories, images.untagged_expiry_days,
                              images.keep_releases, keys.arns("images"), protect=config.protect_stateful),
        providers,
    )
    tracking = ExperimentTracking(
        names.resource("tracking"),
        TrackingArgs(names, primary, config.tracking.size, config.tracking.mlflow_version,
                     config.tracking.maintenance_window, keys.arn("tracking", primary),
                     identity.workload_boundary.arn, noncurrent_version_expiry_days=retention,
                     protect=config.protect_stateful),
        providers[primary],
    )
    clusters = build_clusters(
        config, providers, keys.arns("eks"), keys.arns("logs"), identity.workload_boundary.arn, identity.ci_role.arn,
        {region: [s.id for s in net.private_subnets] for region, net in networks.items()},
        {region: str(config.network.cidrs[region]) for region in config.regions},
        {region: net.vpc.id for region, net in networks.items()},
    )
    observability = PlatformObservability(
        names.resource("observability"),
        PlatformObservabilityArgs(
            AlertsArgs(names, config.regions, primary, config.owners, keys.arns("alerts")),
            nat_gateway_ids={region: network.nat_gateway_ids for region, network in networks.items()},
            cluster_names={region: cluster["name"] for region, cluster in clusters.items()},
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
                "sagemakerSecurityGroupId": net.sagemaker_security_group.id,
                "s3EndpointId": net.gateway_endpoints["s3"].id,
            }
            for region, net in networks.items()
        },
        "clusters": clusters,
        "imageRepositories": registry.urls,
        "tracking": tracking.outputs(primary, keys.arn("tracking", primary)),
        "alertsTopicArns": observability.alerts.arns,
    }
