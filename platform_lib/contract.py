"""The typed contract between the planes: what platform and team stacks export.

Infra exports exactly these keys; team stacks read the platform's through a StackReference; the
delivery library reads them from `pulumi stack output --json` or from an offline plan's JSON.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel


class Contract(BaseModel):
    # Readers ignore keys they do not know, so a newer platform can export more.
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, validate_by_name=True)

    def export(self) -> dict:
        return self.model_dump(by_alias=True)


class RegionNetwork(Contract):
    vpc_id: str
    private_subnet_ids: list[str] = Field(min_length=1)
    public_subnet_ids: list[str] = Field(min_length=1)
    endpoint_security_group_id: str
    # Older platforms do not export these; team stacks that need them say so (see infra/stacks/team.py).
    sagemaker_security_group_id: str | None = None   # SageMaker jobs, models and endpoints run in it
    s3_endpoint_id: str | None = None                # the S3 gateway endpoint: the data perimeter's door


class GpuPool(Contract):
    """A GPU node pool of a cluster: what a team's GPU workload needs to land on it."""

    name: str
    accelerator: str
    gpus_per_node: int                      # `nvidia.com/gpu` one node advertises (time-slicing multiplies)
    label_key: str                          # node label selecting the pool, value = name
    toleration: dict[str, str]              # Kubernetes spelling of the GPU taint's toleration


class ClusterOutputs(Contract):
    """An EKS cluster of one platform region: what team stacks and the delivery library connect with."""

    name: str
    endpoint: str
    certificate_authority: str              # base64 PEM, as EKS returns it
    oidc_provider_arn: str
    oidc_issuer: str
    kubernetes_version: str
    vpc_cidr: str
    node_role_arn: str
    gpu_pools: list[GpuPool] = Field(default_factory=list)   # older platforms: none known
    node_security_group_id: str | None = None   # older platforms: none (no front door for Kubernetes models)

    def gpu_pool(self, name: str | None, gpus: int) -> GpuPool | None:
        """The pool called ``name``, else the first whose nodes hold ``gpus``; None if none fits."""
        fits = [p for p in self.gpu_pools if p.gpus_per_node >= gpus and name in (None, p.name)]
        return fits[0] if fits else None


class TrackingOutputs(Contract):
    """The environment's MLflow tracking server: clients use its ARN as MLFLOW_TRACKING_URI."""

    arn: str
    url: str
    region: str
    artifact_bucket: str
    artifact_key_arn: str


class PlatformOutputs(Contract):
    kind: Literal["platform"]
    environment: str
    account_id: str
    primary_region: str
    regions: list[str]
    workload_boundary_arn: str
    ci_role_arn: str
    logs_key_arns: dict[str, str]
    networks: dict[str, RegionNetwork]
    clusters: dict[str, ClusterOutputs] = Field(default_factory=dict)   # region -> cluster
    image_repositories: dict[str, dict[str, str]] = Field(default_factory=dict)  # image -> region -> URI
    tracking: TrackingOutputs | None = None
    alerts_topic_arns: dict[str, str] = Field(default_factory=dict)    # region -> platform alerts topic


class TeamOutputs(Contract):
    kind: Literal["team"]
    team: str
    environment: str
    account_id: str
    primary_region: str
    buckets: dict[str, str]                 # tier -> bucket name, in the primary region
    models_buckets: dict[str, str]          # serving region -> bucket holding the team's models
    key_arns: dict[str, dict[str, str]]     # domain -> region -> KMS key ARN
    execution_role_arn: str
    log_buckets: dict[str, str]
    break_glass_role_arn: str | None = None   # reads the team's data from outside its perimeter (incidents)
    namespace: str | None = None            # the team's Kubernetes namespace (same name in every region)
    service_account: str | None = None      # its workload service account (IRSA)
    workload_role_arn: str | None = None    # the IAM role that service account assumes
    feature_groups: dict[str, str] = {}     # declared group -> FeatureGroupName (primary region)
    feature_database: str | None = None     # the team's Glue database (feature tables, curated tier)
    athena_workgroup: str | None = None     # the team's Athena workgroup
    model_package_groups: dict[str, str] | None = None   # model -> package group (None: older stack)
    alerts_topic_arns: dict[str, str] = Field(default_factory=dict)    # serving region -> alerts topic
    dashboard: str | None = None                          # CloudWatch dashboard (primary region)
    budget: str | None = None                             # AWS Budget name
    endpoints: dict[str, dict[str, str]] = {}   # served model -> region -> SageMaker endpoint name
    hostnames: dict[str, str] = {}              # served model -> its stable HTTPS hostname (hostedZone set)
    kubernetes_services: dict[str, dict[str, str]] = {}   # served model -> region -> in-cluster URL


class ContractError(Exception):
    """Stack outputs that do not satisfy the contract (e.g. a team stack planned against the wrong
    platform, or a platform stack not deployed yet)."""


def parse(model: type[Contract], outputs: dict, source: str) -> Contract:
    try:
        return model.model_validate(outputs)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ContractError(f"outputs of {source} do not satisfy the {model.__name__} contract: {problems}") from None
