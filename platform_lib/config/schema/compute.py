"""The `compute` section of a platform stack: the EKS cluster of each region and its node pools.

GPU scheduling (taint, toleration, labels, affinity) comes from one object, :data:`GPU`, that every GPU
node pool, the NVIDIA device plugin and every GPU workload use, so they cannot drift apart.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from infra import versions

from .base import Model, Section


@dataclass(frozen=True)
class Family:
    """What the platform knows about an EC2 instance family."""

    accelerator: str | None = None          # e.g. nvidia-a10g; None for CPU families
    mig_profiles: tuple[str, ...] = ()      # MIG profiles the GPU supports; () = no MIG
    arch: Literal["x86_64", "arm64"] = "x86_64"


_A100_40 = ("1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb")
_A100_80 = ("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb")
_H100_80 = ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb")

INSTANCE_FAMILIES: dict[str, Family] = {
    **{f: Family() for f in ("t3", "m5", "m6i", "m6a", "m7i", "m7a", "c6i", "c7i", "r6i", "r7i")},
    **{f: Family(arch="arm64") for f in ("m7g", "c7g", "r7g")},
    "g4dn": Family("nvidia-t4"),
    "g5": Family("nvidia-a10g"),
    "g6": Family("nvidia-l4"),
    "g6e": Family("nvidia-l40s"),
    "p4d": Family("nvidia-a100", _A100_40),
    "p4de": Family("nvidia-a100-80gb", _A100_80),
    "p5": Family("nvidia-h100", _H100_80),
}
"""Instance families a node pool may use (extend here when the platform adopts a new one)."""


ROLE_ARN = r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$"

_MULTI_GPU_SIZES = {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8, "metal": 8}
_EIGHT_GPU_FAMILIES = ("p4d", "p4de", "p5")


def gpus_per_instance(instance_type: str) -> int:
    """NVIDIA GPUs of an instance type: 8 on p4d/p4de/p5; on g4dn/g5/g6/g6e 1, or 4-8 on the largest sizes."""
    family, size = instance_type.split(".", 1)
    if INSTANCE_FAMILIES[family].accelerator is None:
        return 0
    return 8 if family in _EIGHT_GPU_FAMILIES else _MULTI_GPU_SIZES.get(size, 1)


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value))
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR block ({error})") from None


def family_of(instance_type: str) -> str:
    """`g5.2xlarge` -> `g5`."""
    return instance_type.split(".", 1)[0]


@dataclass(frozen=True)
class GpuScheduling:
    """The one source of GPU taints, tolerations and labels."""

    resource: str = "nvidia.com/gpu"
    taint_key: str = "nvidia.com/gpu"
    taint_value: str = "true"
    taint_effect: str = "NoSchedule"
    pool_label: str = "ml-platform/pool"
    accelerator_label: str = "ml-platform/accelerator"
    capacity_label: str = "ml-platform/capacity"

    @property
    def eks_taint(self) -> dict[str, str]:
        """The taint as an EKS managed node group states it."""
        return {"key": self.taint_key, "value": self.taint_value, "effect": _EKS_EFFECTS[self.taint_effect]}

    @property
    def toleration(self) -> dict[str, str]:
        """The toleration every GPU pod carries (Kubernetes spelling)."""
        return {"key": self.taint_key, "operator": "Equal", "value": self.taint_value, "effect": self.taint_effect}

    @property
    def asg_taint_tag(self) -> tuple[str, str]:
        """Cluster Autoscaler's node-template tag for the taint (scale from zero)."""
        return (f"k8s.io/cluster-autoscaler/node-template/taint/{self.taint_key}",
                f"{self.taint_value}:{self.taint_effect}")

    def affinity(self, pools: list[str]) -> dict[str, Any]:
        """Required node affinity to the named pools (Kubernetes spelling)."""
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": self.pool_label, "operator": "In", "values": sorted(pools)}]}]}}}


_EKS_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}

GPU = GpuScheduling()
"""The GPU scheduling contract of the whole project."""


class Taint(Model):
    key: str = Field(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9._-]{1,63}$")
    value: str = Field(default="", pattern=r"^[A-Za-z0-9._-]{0,63}$")
    effect: Literal["NoSchedule", "NoExecute", "PreferNoSchedule"]

    @property
    def eks(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value, "effect": _EKS_EFFECTS[self.effect]}


class TimeSlicing(Model):
    replicas: int = Field(ge=2, le=48, description="pods that share one GPU (no memory isolation)")


class Mig(Model):
    profile: str = Field(description="MIG profile every GPU of the pool is split into, e.g. 1g.10gb")


class GpuSharing(Model):
    """One of: time-slicing (any NVIDIA GPU) or MIG (A100/H100 only)."""

    time_slicing: TimeSlicing | None = None
    mig: Mig | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> GpuSharing:
        if (self.time_slicing is None) == (self.mig is None):
            raise ValueError("set exactly one of timeSlicing or mig")
        return self


class NodePool(Model):
    """A managed node group: one concern (system add-ons, CPU jobs, one GPU type)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$", description="lowercase, 3-24 chars")
    instance_types: list[str] = Field(min_length=1)
    gpu: bool = False
    system: bool = Field(default=False, description="hosts the cluster's add-ons (CoreDNS, autoscaler)")
    critical: bool = Field(default=False, description="must not lose capacity to spot interruptions")
    capacity: Literal["on-demand", "spot"] = "on-demand"
    min_size: int = Field(default=0, ge=0)
    max_size: int = Field(ge=1, le=1000)
    disk_size_gib: int = Field(default=100, ge=20, le=16384)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list, description="extra taints (the GPU taint is automatic)")
    accelerator: str | None = Field(default=None, description="derived from the instance family if omitted")
    ami_type: str | None = Field(default=None, description="defaults to the pinned AL2023 type (infra/versions.py)")
    ami_release: str | None = Field(default=None, description="defaults to the pinned release (infra/versions.py)")
    sharing: GpuSharing | None = None

    @property
    def families(self) -> list[Family]:
        return [INSTANCE_FAMILIES[family_of(t)] for t in self.instance_types]

    @property
    def arch(self) -> str:
        return self.families[0].arch

    @property
    def gpu_accelerator(self) -> str | None:
        return self.accelerator or self.families[0].accelerator if self.gpu else None

    @property
    def advertised_gpus(self) -> int:
        """`nvidia.com/gpu` one node of the pool advertises (time-slicing multiplies it); the smallest type."""
        gpus = min(gpus_per_instance(t) for t in self.instance_types)
        if self.sharing and self.sharing.time_slicing:
            gpus *= self.sharing.time_slicing.replicas
        return gpus

    def resolved_ami_type(self) -> str:
        if self.ami_type:
            return self.ami_type
        if self.gpu:
            return versions.AMI_TYPES["gpu"]
        return versions.AMI_TYPES["cpu-arm" if self.arch == "arm64" else "cpu"]

    def node_labels(self) -> dict[str, str]:
        """Labels of the pool's nodes: pool, capacity, accelerator (GPU), then the pool's own."""
        labels = {GPU.pool_label: self.name, GPU.capacity_label: self.capacity}
        if self.gpu:
            labels[GPU.accelerator_label] = str(self.gpu_accelerator)
        if self.sharing and self.sharing.mig:
            labels["nvidia.com/mig.config"] = f"all-{self.sharing.mig.profile}"
        return {**labels, **self.labels}

    def taint_list(self) -> list[dict[str, str]]:
        """EKS taints: the GPU taint on GPU pools (from :data:`GPU`), then the pool's own."""
        return ([GPU.eks_taint] if self.gpu else []) + [t.eks for t in self.taints]

    @model_validator(mode="after")
    def _consistent(self) -> NodePool:
        where = f"nodePools '{self.name}'"
        unknown = [t for t in self.instance_types if family_of(t) not in INSTANCE_FAMILIES or "." not in t]
        if unknown:
            raise ValueError(f"{where}: unknown instance family in {unknown}; allowed families: "
                             f"{', '.join(sorted(INSTANCE_FAMILIES))}")
        if len(set(self.instance_types)) != len(self.instance_types):
            raise ValueError(f"{where}: instanceTypes lists a type twice")
        if self.min_size > self.max_size:
            raise ValueError(f"{where}: minSize {self.min_size} is greater than maxSize {self.max_size}")
        if self.critical and self.capacity == "spot":
            raise ValueError(f"{where}: a critical pool cannot use spot capacity; use capacity: on-demand")
        accelerators = {f.accelerator for f in self.families}
        if len({f.arch for f in self.families}) > 1:
            raise ValueError(f"{where}: mixes x86_64 and arm64 instance types; one AMI serves one architecture")
        if self.gpu:
            if None in accelerators:
                raise ValueError(f"{where}: gpu: true but {self.instance_types} include non-GPU families")
            if len(accelerators) > 1:
                raise ValueError(f"{where}: mixes GPUs {sorted(a for a in accelerators if a)}; one pool per GPU type")
            if self.accelerator and self.accelerator not in accelerators:
                raise ValueError(f"{where}: accelerator {self.accelerator!r} does not match the instance "
                                 f"family's GPU {sorted(a for a in accelerators if a)}")
            if self.system:
                raise ValueError(f"{where}: a GPU pool cannot be the system pool")
            if self.ami_type and "NVIDIA" not in self.ami_type:
                raise ValueError(f"{where}: GPU pools need an NVIDIA AMI type (e.g. {versions.AMI_TYPES['gpu']})")
        else:
            if accelerators != {None}:
                raise ValueError(f"{where}: instance types {self.instance_types} have GPUs; set gpu: true")
            if self.sharing or self.accelerator:
                raise ValueError(f"{where}: sharing and accelerator apply to GPU pools only (gpu: true)")
            if self.ami_type and "NVIDIA" in self.ami_type:
                raise ValueError(f"{where}: an NVIDIA AMI type on a CPU pool")
        if self.sharing and self.sharing.mig:
            profiles = self.families[0].mig_profiles
            if not profiles:
                raise ValueError(f"{where}: MIG profile {self.sharing.mig.profile!r} on {self.gpu_accelerator}, "
                                 f"which has no MIG; use sharing.timeSlicing, or p4d/p4de/p5 instances")
            if self.sharing.mig.profile not in profiles:
                raise ValueError(f"{where}: MIG profile {self.sharing.mig.profile!r} does not exist on "
                                 f"{self.gpu_accelerator}; allowed: {', '.join(profiles)}")
        return self


class ComputeConfig(Section):
    """An EKS cluster per platform region, with the same node pools in each."""

    DEFAULTS = {
        "dev": {"spotAllowed": True, "nodePools": [
            {"name": "system", "system": True, "instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 3}]},
        "staging": {"spotAllowed": True, "nodePools": [
            {"name": "system", "system": True, "instanceTypes": ["m6i.large"], "minSize": 2, "maxSize": 4}]},
        "prod": {"spotAllowed": False, "nodePools": [
            {"name": "system", "system": True, "critical": True, "instanceTypes": ["m6i.xlarge"],
             "minSize": 3, "maxSize": 6}]},
    }

    kubernetes_version: str = Field(default=versions.KUBERNETES_VERSION)
    public_access_cidrs: list[Annotated[str, AfterValidator(_cidr)]] = Field(
        default_factory=list,
        description="dev only: open the API endpoint to these CIDRs; empty keeps it private",
    )
    spot_allowed: bool = Field(description="whether pools may use spot capacity")
    admin_role_arns: list[Annotated[str, Field(pattern=ROLE_ARN)]] = Field(
        default_factory=list, description="IAM roles of platform administrators (cluster admin)")
    node_pools: list[NodePool] = Field(min_length=1)

    @property
    def gpu(self) -> GpuScheduling:
        return GPU

    @property
    def gpu_pools(self) -> list[NodePool]:
        return [p for p in self.node_pools if p.gpu]

    @property
    def system_pool(self) -> NodePool:
        return next(p for p in self.node_pools if p.system)

    @model_validator(mode="after")
    def _valid(self) -> ComputeConfig:
        if self.kubernetes_version not in versions.SUPPORTED_KUBERNETES_VERSIONS:
            raise ValueError(f"kubernetesVersion {self.kubernetes_version!r} is outside the supported window; "
                             f"allowed: {', '.join(versions.SUPPORTED_KUBERNETES_VERSIONS)}")
        names = [p.name for p in self.node_pools]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"nodePools: pool name(s) {twice} used twice; names must be unique")
        systems = [p.name for p in self.node_pools if p.system]
        if len(systems) != 1:
            raise ValueError(f"nodePools: exactly one pool needs system: true (found {systems or 'none'})")
        if not self.spot_allowed:
            spot = [p.name for p in self.node_pools if p.capacity == "spot"]
            if spot:
                raise ValueError(f"nodePools {spot}: spot capacity is not allowed here (spotAllowed: false)")
        for cidr in map(ipaddress.ip_network, self.public_access_cidrs):
            if cidr.prefixlen == 0:
                raise ValueError("publicAccessCidrs: 0.0.0.0/0 opens the API to the internet; name your CIDRs")
            if not ipaddress.ip_network(cidr).is_global:
                raise ValueError(f"publicAccessCidrs: {cidr} is not a public range (the private endpoint "
                                 f"already serves the VPC)")
        return self

    def check_environment(self, environment: str, az_count: int) -> None:
        """Rules that depend on the environment (called by PlatformConfig)."""
        if self.public_access_cidrs and environment != "dev":
            raise ValueError(f"compute.publicAccessCidrs: the API endpoint is private in {environment}; "
                             f"a public endpoint is allowed in dev only")
        system = self.system_pool
        if environment == "prod":
            if system.capacity != "on-demand" or not system.critical:
                raise ValueError("compute.nodePools 'system': prod needs an on-demand, critical system pool")
            if system.min_size < min(az_count, 2):
                raise ValueError(f"compute.nodePools 'system': prod needs minSize >= {min(az_count, 2)} "
                                 f"(a node in more than one AZ)")
