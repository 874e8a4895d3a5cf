"""A team stack: the team's keys, data lake and execution role, on its environment's platform."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from operator import attrgetter
from typing import cast

import pulumi
import pulumi_aws as aws

from infra.components.batch import BatchScoring, BatchScoringArgs
from infra.components.budget import BudgetArgs, TeamBudget
from infra.components.encryption import Encryption, EncryptionArgs, KeyDomain
from infra.components.endpoint import SageMakerEndpoint, SageMakerEndpointArgs, image_uri
from infra.components.feature_store import CRAWLER_ROLE, FEATURE_STORE_ROLE, FeatureStore, FeatureStoreArgs
from infra.components.feature_store import group_name as feature_group_name
from infra.components.identity import BREAK_GLASS_ROLE, EXECUTION_ROLE, TeamIdentity, TeamIdentityArgs
from infra.components.k8s_serving import KubernetesServing, KubernetesServingArgs
from infra.components.model_registry import ModelRegistry, ModelRegistryArgs, ModelSpec
from infra.components.monitoring import DriftMonitor, DriftMonitorArgs
from infra.components.observability import AlertsArgs, TeamObservability, TeamObservabilityArgs, alerts_key_statement
from infra.components.retraining import PIPELINE_ROLE, RetrainingArgs, RetrainingPipeline, data_events
from infra.components.routing import (
    ModelRoute,
    ModelRouteArgs,
    RegionalDoor,
    SageMakerBackend,
    ServiceBackend,
    hostname,
)
from infra.components.service_door import ServiceDoor, ServiceDoorArgs
from infra.components.storage import REPLICATION_ROLE, DataLake, DataLakeArgs, Lifecycle, Perimeter
from infra.components.tenancy import Tenancy, TenancyArgs
from infra.components.tracking import TrackingAccess, TrackingAccessArgs
from infra.documents import online_store_creator
from infra.naming import names as names_of
from infra.naming import tags as tags_of
from infra.providers import regional_providers
from platform_lib.config.schema import TeamConfig
from platform_lib.contract import (
    ClusterOutputs,
    ContractError,
    GpuPool,
    PlatformOutputs,
    RegionNetwork,
    TeamOutputs,
    TrackingOutputs,
    parse,
)


def platform_reference(config: TeamConfig) -> pulumi.Output[PlatformOutputs]:
    """The platform stack's outputs, checked against the contract and against this team's config."""
    stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{config.platform_stack_name}"
    reference = pulumi.StackReference(stack)
    return reference.outputs.apply(
        lambda outputs: _check(cast(PlatformOutputs, parse(PlatformOutputs, outputs, f"stack {stack}")), config, stack)
    )


def _check(platform: PlatformOutputs, config: TeamConfig, stack: str) -> PlatformOutputs:
    if platform.environment != config.environment:
        raise ContractError(f"team stack is {config.environment} but {stack} is {platform.environment}")
    if platform.account_id != config.account_id:
        raise ContractError(f"team stack targets account {config.account_id} but {stack} is in {platform.account_id}")
    if platform.tracking is None:
        raise ContractError(f"{stack} exports no tracking server (an older platform): update it first")
    unserved = [r for r in config.regions if r not in platform.regions]
    if unserved:
        raise ContractError(f"region(s) {unserved} of this team are not regions of {stack} ({platform.regions})")
    outdated = [r for r, n in platform.networks.items() if not (n.sagemaker_security_group_id and n.s3_endpoint_id)]
    if outdated:
        raise ContractError(f"{stack} exports no SageMaker security group or S3 endpoint for region(s) {outdated}: "
                            f"deploy the platform stack first (`pulumi up` on {stack})")
    clusterless = [r for r in config.regions if r not in platform.clusters]
    if clusterless:
        raise ContractError(f"{stack} exports no cluster for region(s) {clusterless} of this team "
                            f"(a platform deployed before clusters existed? run its `pulumi up` first)")
    _check_gpu_pools(platform, config, stack)
    return platform


def _check_gpu_pools(platform: PlatformOutputs, config: TeamConfig, stack: str) -> None:
    """Every GPU model served on Kubernetes finds a GPU pool that holds its pods in each of its regions."""
    for index, model in enumerate(config.served.models):
        if model.target != "kubernetes" or not model.gpus or model.resources is None:
            continue
        wanted = model.resources.pool
        for region in model.served_regions:
            cluster = platform.clusters[region]
            if cluster.gpu_pool(wanted, model.gpus) is None:
                pools = ", ".join(f"{p.name} ({p.gpus_per_node} GPU/node)" for p in cluster.gpu_pools) or "none"
                key = "pool" if wanted else "gpus"
                raise ContractError(
                    f"serving.models[{index}].resources.{key}: model {model.name!r} asks for {model.gpus} GPU(s) "
                    f"per pod{f' on pool {wanted!r}' if wanted else ''}, but the cluster of {stack} in {region} "
                    f"has no GPU pool that fits (GPU pools: {pools}); add one to the platform's compute.nodePools "
                    f"or serve this model on CPU")


def build(config: TeamConfig) -> dict[str, pulumi.Input]:
    """Compose the team's components and return its contract outputs (TeamOutputs)."""
    names = names_of(config)
    platform = platform_reference(config)
    boundary = platform.apply(lambda p: p.workload_boundary_arn)
    providers = regional_providers(config)
    primary = config.primary_region
    enforced = config.perimeter.enforced
    replicated = any(region != primary for region in config.serving)
    execution = names.role_arn(EXECUTION_ROLE)
    break_glass = [names.role_arn(BREAK_GLASS_ROLE)] if enforced else []
    replication = [names.role_arn(REPLICATION_ROLE)] if replicated else []
    # Retraining pipelines start jobs under the models key (volumes, outputs) and read their evaluation.
    pipelines = [names.role_arn(PIPELINE_ROLE.format(model=m.name)) for m in config.model_registry.models
                 if m.retraining is not None]
    # Feature Store and the Glue crawler work from AWS's network with their own roles.
    feature_services = [names.role_arn(FEATURE_STORE_ROLE), names.role_arn(CRAWLER_ROLE)]
    # CI creates the feature groups: with an online store, CreateFeatureGroup needs the caller to use its key.
    ci_role = platform.apply(lambda p: p.ci_role_arn)
    online = any(group.online_store.enabled for group in config.features.groups)
    domains = {
        "data": KeyDomain(f"Data lake of team {config.team}", [primary], via_services=["s3", "sagemaker"],
                          users=[execution, *feature_services, *break_glass, *pipelines],   # Prepare: data key
                          extra_statements=lambda account, region: (
                              online_store_creator(account, region, ci_role) if online else [])),
        "models": KeyDomain(f"Models of team {config.team}", config.serving, via_services=["s3", "sagemaker"],
                            users=[execution, *replication, *break_glass, *pipelines]),
        "alerts": KeyDomain(f"Alert topics of team {config.team}", config.serving, via_services=["sns"],
                            extra_statements=lambda account, region: [alerts_key_statement(account)]),
    }
    keys = Encryption(names.resource("keys"), EncryptionArgs(names, domains, protect=config.protect_stateful),
                      providers)
    key_arns = {domain: keys.arns(domain) for domain in domains}
    storage = config.storage
    lifecycle = Lifecycle(
        tiering_after_days=storage.tiering_after_days, raw_archive_after_days=storage.raw_archive_after_days,
        noncurrent_version_expiry_days=storage.noncurrent_version_expiry_days,
        access_log_days=config.logs.retention_days,
    )
    perimeter = Perimeter(
        vpc_endpoint_ids=platform.apply(lambda p: [n.s3_endpoint_id or "" for n in p.networks.values()]),
        exempt_role_arns=[*break_glass, *replication, *feature_services],
    ) if enforced else None
    lake = DataLake(
        names.resource("data-lake"),
        DataLakeArgs(names, primary, config.serving, lifecycle, key_arns=key_arns,
                     permissions_boundary=boundary, protect=config.protect_stateful, perimeter=perimeter),
        providers,
    )
    models_buckets = {primary: lake.buckets["models"], **lake.model_replicas}
    identity = TeamIdentity(
        names.resource("identity"),
        TeamIdentityArgs(
            names,
            primary_bucket_arns=[b.arn for b in lake.buckets.values()],
            replica_bucket_arns=[b.arn for b in lake.model_replicas.values()],
            key_arns=[arn for domain in ("data", "models") for arn in key_arns[domain].values()],
            permissions_boundary=boundary,
            sagemaker_subnet_ids=platform.apply(
                lambda p: [s for n in p.networks.values() for s in n.private_subnet_ids]),
            sagemaker_security_group_ids=platform.apply(
                lambda p: [n.sagemaker_security_group_id or "" for n in p.networks.values()]),
            break_glass=enforced,
        ),
        providers[primary],
    )
    features = FeatureStore(names.resource("feature-store"), FeatureStoreArgs(
        names, primary, config.features.groups, features_bucket=lake.buckets["features"].name,
        curated_bucket=lake.buckets["curated"].name, data_key_arn=key_arns["data"][primary],
        permissions_boundary=boundary, query_limit_gb=config.features.query_limit_gb,
        crawler_schedule=config.features.crawler_schedule, protect=config.protect_stateful), providers[primary])
    quota = config.tenancy.quota
    tenancy = Tenancy(
        names.resource("tenancy"),
        TenancyArgs(
            names, namespace=config.team, primary_region=primary,
            quota={"cpu": quota.cpu, "memory": quota.memory, "gpus": str(quota.gpus)},
            access_role_arns=list(config.tenancy.access_role_arns),
            clusters={region: platform.apply(lambda p, r=region: p.clusters[r])  # type: ignore[misc]
                      for region in config.regions},
            bucket_arns=[b.arn for b in lake.buckets.values()] + [b.arn for b in lake.model_replicas.values()],
            key_arns=[arn for arns in key_arns.values() for arn in arns.values()],
            permissions_boundary=boundary,
        ),
        providers,
    )
    tracking = platform.apply(lambda p: cast(TrackingOutputs, p.tracking))   # _check: never None
    TrackingAccess(
        names.resource("tracking-access"),
        TrackingAccessArgs(names, identity.execution_role.name, tracking.apply(lambda t: t.arn),
                           tracking.apply(lambda t: t.artifact_bucket), tracking.apply(lambda t: t.artifact_key_arn)),
        providers[primary],
    )
    registry = ModelRegistry(
        names.resource("model-registry"),
        ModelRegistryArgs(names, primary, [
            ModelSpec(m.name, m.description, tuple((g.metric, g.comparison, g.threshold) for g in m.gates))
            for m in config.model_registry.models], config.model_registry.reader_accounts,
            protect=config.protect_stateful),
        providers[primary],
    )
    retraining_pipelines(config, platform, registry, lake, identity, key_arns, boundary, providers[primary])
    watch = config.observability
    observability = TeamObservability(
        names.resource("observability"),
        TeamObservabilityArgs(
            AlertsArgs(names, config.serving, primary, watch.notify or config.owners, keys.arns("alerts")),
            # Served on SageMaker: the endpoints' own rollback alarms notify the topic (sagemaker_endpoints)
            models=[m.name for m in config.model_registry.models
                    if m.name not in {s.name for s in config.served.models if s.target == "sagemaker"}],
            latency_limit_ms=watch.latency_limit_ms,
            server_errors_limit=watch.server_errors_limit),
        providers,
    )
    budget = TeamBudget(names.resource("cost"),
                        BudgetArgs(names, config.cost_center, config.budget.monthly_usd, config.owners),
                        providers[primary])
    endpoints = sagemaker_endpoints(config, platform, identity.execution_role.arn,
                                    {region: b.name for region, b in models_buckets.items()}, key_arns["models"],
                                    providers, observability.alerts.arns)
    kubernetes = kubernetes_serving(config, platform, tenancy, {r: b.name for r, b in models_buckets.items()})
    backends: dict[str, dict[str, SageMakerBackend | ServiceBackend]] = {
        model: {region: SageMakerBackend(e.endpoint.name) for region, e in regions.items()}
        for model, regions in endpoints.items()}
    backends.update(service_doors(config, kubernetes, platform, tenancy, providers))
    routes = model_routes(config, backends, platform, boundary, providers, observability.alerts.arns)
    batch_scoring(config, endpoints, lake.buckets["curated"].name, key_arns["data"][primary], boundary, providers)
    drift_monitors(config, endpoints, platform, identity.execution_role.arn,
                   {region: b.name for region, b in models_buckets.items()}, key_arns["models"], providers,
                   observability.alerts.arns)
    return {
        "kind": "team",
        "team": config.team,
        "environment": config.environment,
        "accountId": config.account_id,
        "primaryRegion": primary,
        "buckets": {tier: b.name for tier, b in lake.buckets.items()},
        "modelsBuckets": {region: b.name for region, b in models_buckets.items()},
        "keyArns": key_arns,
        "executionRoleArn": identity.execution_role.arn,
        "logBuckets": {region: b.name for region, b in lake.log_buckets.items()},
        "breakGlassRoleArn": identity.break_glass_role.arn if identity.break_glass_role else None,
        "featureGroups": {group: fg.feature_group_name for group, fg in features.feature_groups.items()},
        "featureDatabase": features.database.name,
        "athenaWorkgroup": features.workgroup.name,
        "namespace": tenancy.namespace,
        "serviceAccount": tenancy.service_account,
        "workloadRoleArn": tenancy.workload_role.arn,
        "modelPackageGroups": registry.group_names,
        "alertsTopicArns": observability.alerts.arns,
        "dashboard": observability.dashboard.dashboard_name,
        "budget": budget.budget.name,
        "endpoints": {model: {region: e.endpoint.name for region, e in regions.items()}
                      for model, regions in endpoints.items()},
        "hostnames": {model: route.hostname for model, route in routes.items()},
        "kubernetesServices": {model: {region: s.url for region, s in regions.items()}
                               for model, regions in kubernetes.items()},
    }


def sagemaker_endpoints(config: TeamConfig, platform: pulumi.Output[PlatformOutputs],
                        execution_role_arn: pulumi.Input[str], models_buckets: Mapping[str, pulumi.Input[str]],
                        models_keys: Mapping[str, pulumi.Input[str]], providers: Mapping[str, aws.Provider],
                        alert_topics: Mapping[str, pulumi.Input[str]]) -> dict[str, dict[str, SageMakerEndpoint]]:
    """`{model: {region: endpoint}}` for every model served on SageMaker, in each of its regions; their
    rollback alarms also notify the team's alert topic of the region."""
    names = names_of(config)
    endpoints: dict[str, dict[str, SageMakerEndpoint]] = {}
    for model in config.served.models:
        if model.target != "sagemaker":
            continue
        for region in model.served_regions:
            network: pulumi.Output[RegionNetwork] = platform.apply(lambda p, r=region: p.networks[r])  # type: ignore[misc]
            endpoints.setdefault(model.name, {})[region] = SageMakerEndpoint(
                names.resource(f"{model.name}-serving", region),
                SageMakerEndpointArgs(
                    names, region, model, execution_role_arn, models_buckets[region], models_keys[region],
                    subnet_ids=network.apply(lambda n: n.private_subnet_ids),
                    security_group_id=network.apply(lambda n: n.sagemaker_security_group_id or ""),
                    logs_key_arn=platform.apply(lambda p, r=region: p.logs_key_arns[r]),  # type: ignore[misc]
                    log_retention_days=config.logs.retention_days,
                    alarm_actions=(alert_topics[region],) if region in alert_topics else ()),
                providers[region])
    return endpoints


def retraining_pipelines(config: TeamConfig, platform: pulumi.Output[PlatformOutputs], registry: ModelRegistry,
                         lake: DataLake, identity: TeamIdentity,
                         key_arns: Mapping[str, Mapping[str, pulumi.Input[str]]],
                         boundary: pulumi.Input[str], provider: aws.Provider) -> dict[str, RetrainingPipeline]:
    """A retraining pipeline per model that declares one, defined by the library from the team's outputs."""
    names = names_of(config)
    primary = config.primary_region
    declared = [m for m in config.model_registry.models if m.retraining is not None]
    if not declared:
        return {}
    team = pulumi.Output.from_input({
        "kind": "team", "team": config.team, "environment": config.environment, "accountId": config.account_id,
        "primaryRegion": primary, "buckets": {tier: b.name for tier, b in lake.buckets.items()},
        "modelsBuckets": {primary: lake.buckets["models"].name},
        "keyArns": {domain: {primary: key_arns[domain][primary]} for domain in ("data", "models")},
        "executionRoleArn": identity.execution_role.arn, "logBuckets": {},
        "modelPackageGroups": registry.group_names,
        "featureGroups": {group.name: feature_group_name(names, group) for group in config.features.groups},
    }).apply(lambda values: TeamOutputs.model_validate(values))
    groups = {group.name: group for group in config.features.groups}
    curated = lake.buckets["curated"]
    if any(model.retraining.on_new_data for model in declared if model.retraining):
        data_events(names.resource("curated-events"), curated.name, pulumi.ResourceOptions(provider=provider,
                                                                                          parent=curated))
    return {
        model.name: RetrainingPipeline(names.resource(f"{model.name}-retraining"), RetrainingArgs(
            names, primary, model, team, platform, registry.groups[model.name].arn,
            lake.buckets["models"].arn, key_arns["models"][primary], boundary, tags_of(config, pulumi.get_stack()),
            key_arns["data"][primary], curated.name,
            groups.get(model.retraining.feature_group or "") if model.retraining else None),
            provider)
        for model in declared}


def model_routes(config: TeamConfig, backends: Mapping[str, Mapping[str, SageMakerBackend | ServiceBackend]],
                 platform: pulumi.Output[PlatformOutputs], boundary: pulumi.Input[str],
                 providers: Mapping[str, aws.Provider],
                 alert_topics: Mapping[str, pulumi.Input[str]]) -> dict[str, ModelRoute]:
    """A stable hostname per served model in the team's hosted zone, when it has one: a front door per
    region in front of its SageMaker endpoint or its Kubernetes Service."""
    zone = config.served.hosted_zone
    if zone is None:
        return {}
    names = names_of(config)
    routes = {}
    for model in config.served.models:
        if model.name not in backends:
            continue
        doors = {region: RegionalDoor(backend,
                                      platform.apply(lambda p, r=region: p.logs_key_arns[r]),  # type: ignore[misc]
                                      providers[region], alert_topics.get(region))
                 for region, backend in backends[model.name].items()}
        routes[model.name] = ModelRoute(names.resource(f"{model.name}-route"), ModelRouteArgs(
            names, model.name, hostname(model.name, config.team, config.environment, zone.name), zone.id, doors,
            permissions_boundary=boundary, log_retention_days=config.logs.retention_days,
            error_alarm_percent=model.error_alarm_percent))
    return routes


def service_doors(config: TeamConfig, kubernetes: Mapping[str, Mapping[str, KubernetesServing]],
                  platform: pulumi.Output[PlatformOutputs], tenancy: Tenancy,
                  providers: Mapping[str, aws.Provider]) -> dict[str, dict[str, SageMakerBackend | ServiceBackend]]:
    """With a hosted zone, per model served on Kubernetes and region: the internal NLB, VPC link and
    TargetGroupBinding its front door reaches the Service's pods through."""
    if config.served.hosted_zone is None:
        return {}
    names = names_of(config)
    backends: dict[str, dict[str, SageMakerBackend | ServiceBackend]] = {}
    for model, regions in kubernetes.items():
        for region, serving in regions.items():
            network: pulumi.Output[RegionNetwork] = platform.apply(lambda p, r=region: p.networks[r])  # type: ignore[misc]
            door = ServiceDoor(
                names.resource(f"{model}-service-door", region),
                ServiceDoorArgs(names, region, model, tenancy.namespace, network.apply(attrgetter("vpc_id")),
                                network.apply(attrgetter("private_subnet_ids")),
                                platform.apply(partial(_node_security_group, region))),
                providers[region], tenancy.kubernetes[region], opts=pulumi.ResourceOptions(depends_on=[serving]))
            backends.setdefault(model, {})[region] = ServiceBackend(
                door.vpc_link.id, door.load_balancer.arn, door.load_balancer.dns_name)
    return backends


def batch_scoring(config: TeamConfig, endpoints: Mapping[str, Mapping[str, SageMakerEndpoint]],
                  curated_bucket: pulumi.Input[str], data_key_arn: pulumi.Input[str], boundary: pulumi.Input[str],
                  providers: Mapping[str, aws.Provider]) -> dict[str, BatchScoring]:
    """A scheduled batch transform per SageMaker model with a batchSchedule, in the primary region."""
    names, primary = names_of(config), config.primary_region
    return {
        model.name: BatchScoring(names.resource(f"{model.name}-batch-scoring"), BatchScoringArgs(
            names, primary, model.name, endpoints[model.name][primary].model.name, model.instance_type or "",
            model.batch_schedule or "", curated_bucket, data_key_arn, boundary,
            tags=tags_of(config, pulumi.get_stack())), providers[primary])
        for model in config.served.models
        if model.batch_schedule and primary in endpoints.get(model.name, {})
    }


def drift_monitors(config: TeamConfig, endpoints: Mapping[str, Mapping[str, SageMakerEndpoint]],
                   platform: pulumi.Output[PlatformOutputs], execution_role_arn: pulumi.Input[str],
                   models_buckets: Mapping[str, pulumi.Input[str]], models_keys: Mapping[str, pulumi.Input[str]],
                   providers: Mapping[str, aws.Provider],
                   alert_topics: Mapping[str, pulumi.Input[str]]) -> list[DriftMonitor]:
    """In prod, a data-quality schedule and drift alarm per SageMaker endpoint that captures data."""
    if config.environment != "prod":
        return []
    names = names_of(config)
    monitors = []
    for model in config.served.models:
        if not (model.capture_percent and model.drift_features):
            continue
        for region, endpoint in endpoints.get(model.name, {}).items():
            network: pulumi.Output[RegionNetwork] = platform.apply(lambda p, r=region: p.networks[r])  # type: ignore[misc]
            monitors.append(DriftMonitor(names.resource(f"{model.name}-drift-monitor", region), DriftMonitorArgs(
                names, region, model.name, endpoint.endpoint.name, model.drift_features, model.drift_threshold,
                execution_role_arn, models_buckets[region], models_keys[region],
                subnet_ids=network.apply(lambda n: n.private_subnet_ids),
                security_group_id=network.apply(lambda n: n.sagemaker_security_group_id or ""),
                alarm_topic_arn=alert_topics.get(region)), providers[region]))
    return monitors


def kubernetes_serving(config: TeamConfig, platform: pulumi.Output[PlatformOutputs], tenancy: Tenancy,
                       models_buckets: Mapping[str, pulumi.Input[str]]) -> dict[str, dict[str, KubernetesServing]]:
    """`{model: {region: serving}}` for every model served on Kubernetes, in the team namespace of each of
    its regions (through the tenancy's provider of that region's cluster)."""
    names = names_of(config)
    served: dict[str, dict[str, KubernetesServing]] = {}
    for model in config.served.models:
        if model.target != "kubernetes":
            continue
        pool = model.resources.pool if model.resources else None
        for region in model.served_regions:
            cluster = platform.apply(partial(_cluster, region))
            # _check_gpu_pools: found whenever the model asks for GPUs
            placement = cluster.apply(partial(_placement, pool, model.gpus))
            served.setdefault(model.name, {})[region] = KubernetesServing(
                names.resource(f"{model.name}-k8s", region),
                KubernetesServingArgs(names, region, model, tenancy.namespace, tenancy.service_account,
                                      image_uri(config.account_id, region, model.image), models_buckets[region],
                                      placement, cluster.apply(attrgetter("vpc_cidr")),
                                      prod=config.environment == "prod"),
                tenancy.kubernetes[region], opts=pulumi.ResourceOptions(depends_on=tenancy.ready[region]))
    return served


def _node_security_group(region: str, platform: PlatformOutputs) -> str:
    group = platform.clusters[region].node_security_group_id
    if group is None:
        raise ContractError(f"the platform's cluster in {region} exports no nodeSecurityGroupId (an older platform): "
                            f"run its `pulumi up` first, or remove serving.hostedZone")
    return group


def _cluster(region: str, platform: PlatformOutputs) -> ClusterOutputs:
    return platform.clusters[region]


def _placement(pool: str | None, gpus: int, cluster: ClusterOutputs) -> GpuPool | None:
    return cluster.gpu_pool(pool, gpus) if gpus else None
