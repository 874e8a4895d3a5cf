"""Kubernetes serving keys: CPU limit and GPU pool of a model's resources, refused at their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_lib.config.loader import ConfigError, load_stack_file
from platform_lib.config.schema import TeamConfig

ROOT = Path(__file__).resolve().parents[2]
HEAD = """config:
  ml-platform:kind: team
  ml-platform:team: vision
  ml-platform:environment: {env}
  ml-platform:accountId: "111111111111"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:costCenter: vision-cv
  ml-platform:owners: [a@example.com]
  ml-platform:serving:
    models:
      - name: defects
        target: kubernetes
        image: vision/serving:2.1.0
        modelData: defects/4/model.tar.gz
        maxCapacity: 3
"""


def load(tmp_path: Path, env: str, extra: str) -> TeamConfig:
    path = tmp_path / f"Pulumi.vision-{env}.yaml"
    path.write_text(HEAD.format(env=env) + extra)
    config = load_stack_file(path).config
    assert isinstance(config, TeamConfig)
    return config


def test_limits_and_pool_are_read(tmp_path):
    [model] = load(tmp_path, "dev", "        resources: {cpu: 500m, cpuLimit: '2', memory: 2Gi, gpus: 1, "
                                    "pool: gpu-a10g}\n").served.models
    assert model.resources is not None
    assert (model.resources.cpu_limit, model.resources.pool, model.minimum) == ("2", "gpu-a10g", 1)


@pytest.mark.parametrize("env, extra, problem", [
    ("dev", "        resources: {cpu: '2', cpuLimit: 500m, memory: 2Gi}\n",
     "line 16: ml-platform:serving.models.0.resources.cpuLimit: 500m is less than the cpu request (2)"),
    ("dev", "        resources: {cpu: '1', memory: 2Gi, pool: gpu-a10g}\n",
     "line 16: ml-platform:serving.models.0.resources.pool: pool picks a GPU node pool; set gpus or remove pool"),
    ("dev", "        resources: {cpu: '1', memory: 2Gi}\n        minCapacity: 4\n",
     "line 17: ml-platform:serving.models.0.minCapacity: 4 is more than maxCapacity (3)"),
    ("prod", "        resources: {cpu: '1', memory: 2Gi}\n        minCapacity: 1\n",
     "line 17: ml-platform:serving.models.0.minCapacity: prod serves from at least 2 instances across AZs, not 1"),
])
def test_bad_kubernetes_resources_are_refused_at_their_key(tmp_path, env, extra, problem):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, env, extra)
    assert [str(p) for p in caught.value.problems] == [problem]


def test_the_vision_examples_serve_on_kubernetes():
    prod = load_stack_file(ROOT / "stacks" / "Pulumi.vision-prod.yaml").config
    dev = load_stack_file(ROOT / "stacks" / "Pulumi.vision-dev.yaml").config
    assert isinstance(prod, TeamConfig) and isinstance(dev, TeamConfig)
    [gpu] = prod.served.models
    assert (gpu.target, gpu.gpus, gpu.minimum, gpu.max_capacity, gpu.served_regions) == (
        "kubernetes", 1, 2, 3, ["eu-west-1", "us-east-1"])
    [cpu] = dev.served.models
    assert (cpu.target, cpu.gpus, cpu.minimum, cpu.max_capacity) == ("kubernetes", 0, 1, 1)
