"""The compute section: environment defaults, the GPU scheduling object, impossible combinations refused."""

from pathlib import Path

import pytest
import yaml

from platform_lib.config.loader import ConfigError, load_stack_file
from platform_lib.config.schema.compute import GPU

STACKS = Path(__file__).resolve().parents[2] / "stacks"
GPU_POOL = {"name": "gpu", "gpu": True, "instanceTypes": ["g5.xlarge"], "capacity": "spot", "maxSize": 2}
SYSTEM = {"name": "system", "system": True, "instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 3}


def stack(tmp_path, base: str, **changes):
    document = yaml.safe_load((STACKS / f"Pulumi.{base}.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            document["config"].pop(f"ml-platform:{key}", None)
        else:
            document["config"][f"ml-platform:{key}"] = value
    path = tmp_path / f"Pulumi.{base}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def refused(path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    return str(caught.value)


def test_environment_defaults_give_every_platform_a_system_pool(tmp_path):
    dev = load_stack_file(stack(tmp_path, "platform-dev", compute=None)).platform
    assert dev.compute.kubernetes_version == "1.32" and dev.compute.spot_allowed
    assert [(p.name, p.min_size, p.capacity) for p in dev.compute.node_pools] == [("system", 1, "on-demand")]
    prod = load_stack_file(stack(tmp_path, "platform-prod", compute=None)).platform
    assert not prod.compute.spot_allowed and prod.compute.public_access_cidrs == []
    assert prod.compute.system_pool.critical and prod.compute.system_pool.min_size == 3


def test_gpu_pool_derives_taint_labels_and_ami_from_one_object(tmp_path):
    config = load_stack_file(stack(tmp_path, "platform-dev", compute={"nodePools": [SYSTEM, GPU_POOL]})).platform
    pool = config.compute.gpu_pools[0]
    assert pool.min_size == 0 and pool.gpu_accelerator == "nvidia-a10g"
    assert pool.taint_list() == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert GPU.toleration == {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    assert pool.node_labels() == {"ml-platform/pool": "gpu", "ml-platform/capacity": "spot",
                                  "ml-platform/accelerator": "nvidia-a10g"}
    assert pool.resolved_ami_type() == "AL2023_x86_64_NVIDIA"
    assert config.compute.system_pool.resolved_ami_type() == "AL2023_x86_64_STANDARD"


@pytest.mark.parametrize("base, compute, expected", [
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "sharing": {"mig": {"profile": "1g.10gb"}}}]},
     "MIG profile '1g.10gb' on nvidia-a10g, which has no MIG"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "instanceTypes": ["p4d.24xlarge"],
                                             "sharing": {"mig": {"profile": "1g.10gb"}}}]},
     "does not exist on nvidia-a100; allowed: 1g.5gb"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "critical": True}]},
     "nodePools 'gpu': a critical pool cannot use spot capacity"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "minSize": 3}]},
     "nodePools 'gpu': minSize 3 is greater than maxSize 2"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "instanceTypes": ["x9.large"]}]},
     "nodePools 'gpu': unknown instance family in ['x9.large']; allowed families:"),
    ("platform-dev", {"nodePools": [SYSTEM, GPU_POOL, {**GPU_POOL, "instanceTypes": ["g6.xlarge"]}]},
     "pool name(s) ['gpu'] used twice"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "gpu": False}]},
     "have GPUs; set gpu: true"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "instanceTypes": ["m6i.large"]}]},
     "gpu: true but ['m6i.large'] include non-GPU families"),
    ("platform-dev", {"nodePools": [SYSTEM, {**SYSTEM, "name": "system-2"}]},
     "exactly one pool needs system: true (found ['system', 'system-2'])"),
    ("platform-dev", {"kubernetesVersion": "1.20"}, "kubernetesVersion '1.20' is outside the supported window"),
    ("platform-dev", {"publicAccessCidrs": ["0.0.0.0/0"]}, "0.0.0.0/0 opens the API to the internet"),
    ("platform-prod", {"publicAccessCidrs": ["34.240.0.0/16"]}, "a public endpoint is allowed in dev only"),
    ("platform-prod", {"spotAllowed": True, "nodePools": [{**SYSTEM, "capacity": "spot"}]},
     "nodePools 'system': a critical pool cannot use spot capacity"),
    ("platform-prod", {"nodePools": [{**SYSTEM, "critical": False}]}, "prod needs an on-demand, critical system pool"),
    ("platform-prod", {"nodePools": [{**SYSTEM, "critical": True}, GPU_POOL]},
     "nodePools ['gpu']: spot capacity is not allowed here"),
    ("platform-dev", {"nodePools": [SYSTEM, {**GPU_POOL, "sharing": {}}]}, "set exactly one of timeSlicing or mig"),
])
def test_impossible_combinations_are_refused_with_path(tmp_path, base, compute, expected):
    message = refused(stack(tmp_path, base, compute=compute))
    # pool rules point at the section; environment rules name the key in their message
    assert ("ml-platform:compute" in message or "compute." in message) and expected in message, message


def test_team_quota_defaults_and_bad_role_arn(tmp_path):
    team = load_stack_file(stack(tmp_path, "fraud-dev")).team
    assert (team.tenancy.quota.cpu, team.tenancy.quota.memory, team.tenancy.quota.gpus) == ("16", "64Gi", 2)
    message = refused(stack(tmp_path, "fraud-dev", tenancy={"quota": {"cpu": "8", "memory": "32Gi", "gpus": 1},
                                                             "accessRoleArns": ["fraud-admins"]}))
    assert "ml-platform:tenancy" in message and "accessRoleArns.0: 'fraud-admins' does not match" in message
