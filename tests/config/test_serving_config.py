"""The serving section: environment defaults resolved into each model, and refusals naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_lib.config.loader import ConfigError, load_stack_file
from platform_lib.config.schema import TeamConfig

ROOT = Path(__file__).resolve().parents[2]

HEAD = """config:
  ml-platform:kind: team
  ml-platform:team: fraud
  ml-platform:environment: {env}
  ml-platform:accountId: "111111111111"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:servingRegions: [eu-west-1, us-east-1]
  ml-platform:costCenter: risk
  ml-platform:owners: [a@example.com]
  ml-platform:serving:
    models:
      - name: scorer
        image: fraud/serving:1.4.0
        modelData: scorer/3/model.tar.gz
"""


DRIFT = "        driftFeatures: [amount]\n"   # prod names the features its drift alarm watches


def load(tmp_path: Path, env: str, model: str, drift: bool = True) -> TeamConfig:
    path = tmp_path / f"Pulumi.fraud-{env}.yaml"
    path.write_text(HEAD.format(env=env) + model + (DRIFT if drift and env == "prod" else ""))
    config = load_stack_file(path).config
    assert isinstance(config, TeamConfig)
    return config


def problems(tmp_path: Path, env: str, model: str, drift: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, env, model, drift)
    return [str(p) for p in caught.value.problems]


def test_prod_model_gets_the_prod_defaults_and_every_serving_region(tmp_path):
    [model] = load(tmp_path, "prod", "        instanceType: ml.m5.large\n        maxCapacity: 4\n").served.models
    assert model.regions == ["eu-west-1", "us-east-1"]
    assert (model.minimum, model.capture_percent) == (2, 20)
    assert (model.release.strategy, model.release.percent, model.release.wait_minutes) == ("canary", 10, 10)
    assert (model.scaling_metric, model.scaling_target) == ("invocations", 100)


def test_dev_model_gets_the_dev_defaults(tmp_path):
    [model] = load(tmp_path, "dev", "        instanceType: ml.t2.medium\n        maxCapacity: 1\n").served.models
    assert (model.minimum, model.capture_percent, model.release.strategy) == (1, 0, "all-at-once")


def test_a_model_overrides_its_environment(tmp_path):
    [model] = load(tmp_path, "prod", """        regions: [us-east-1]
        instanceType: ml.g5.xlarge
        minCapacity: 3
        maxCapacity: 8
        rollout: {strategy: linear, percent: 25, waitMinutes: 5}
        dataCapturePercent: 100
""").served.models
    assert model.regions == ["us-east-1"]
    assert (model.min_capacity, model.release.strategy, model.release.percent, model.data_capture_percent) == (
        3, "linear", 25, 100)


def test_kubernetes_model_scales_on_cpu(tmp_path):
    [model] = load(tmp_path, "dev", """        target: kubernetes
        resources: {cpu: '2', memory: 8Gi, gpus: 1}
        maxCapacity: 3
""").served.models
    assert (model.gpus, model.scaling_metric, model.scaling_target) == (1, "cpu", 60)


@pytest.mark.parametrize("env, model, problem", [
    ("prod", "        instanceType: ml.m5.large\n        maxCapacity: 4\n        rollout: {strategy: all-at-once}\n",
     "line 17: ml-platform:serving.models.0.rollout.strategy: prod rolls out canary or linear (rolled back on "
     "alarms), not all-at-once"),
    ("prod", "        instanceType: ml.m5.large\n        maxCapacity: 4\n        dataCapturePercent: 0\n",
     "line 17: ml-platform:serving.models.0.dataCapturePercent: prod captures data (drift monitoring reads it): "
     "1-100, not 0"),
    ("prod", "        instanceType: ml.m5.large\n        maxCapacity: 1\n",
     "line 16: ml-platform:serving.models.0.maxCapacity: 1 is less than the minCapacity of the environment (2)"),
    ("dev", "        maxCapacity: 1\n",
     "line 12: ml-platform:serving.models.0.instanceType: a SageMaker model needs an instanceType (e.g. "
     "ml.m5.large; GPU: ml.g5.xlarge)"),
    ("dev", "        serverless: {}\n        maxCapacity: 1\n",
     "line 15: ml-platform:serving.models.0.serverless: serverless endpoints run outside the VPC and without "
     "network isolation (SageMaker's exclusions), which the data perimeter refuses; serve dev from one small "
     "instance (instanceType: ml.t2.medium, maxCapacity: 1)"),
    ("dev", "        target: kubernetes\n        maxCapacity: 1\n",
     "line 12: ml-platform:serving.models.0.resources: a Kubernetes model needs resources: {cpu, memory, gpus}"),
    ("dev", "        target: kubernetes\n        instanceType: ml.m5.large\n        maxCapacity: 1\n",
     "line 16: ml-platform:serving.models.0.instanceType: instanceType is for SageMaker; a Kubernetes model "
     "states resources"),
    ("dev", "        instanceType: ml.m5.large\n        maxCapacity: 1\n        autoscaling: {metric: cpu}\n",
     "line 17: ml-platform:serving.models.0.autoscaling.metric: SageMaker endpoints scale on invocations per "
     "instance; cpu is for Kubernetes"),
])
def test_bad_combinations_are_refused_at_their_key(tmp_path, env, model, problem):
    assert problems(tmp_path, env, model) == [problem]


def test_a_model_declared_twice_is_refused(tmp_path):
    model = "        instanceType: ml.t2.medium\n        maxCapacity: 1\n"
    twice = model + "      - name: scorer\n        image: fraud/serving:1.4.0\n" \
                    "        modelData: scorer/3/model.tar.gz\n" + model
    assert problems(tmp_path, "dev", twice) == [
        "line 17: ml-platform:serving.models.1.name: 'scorer' is declared twice"]


def test_the_examples_serve_what_the_readme_says():
    prod = load_stack_file(ROOT / "stacks" / "Pulumi.fraud-prod.yaml").config
    dev = load_stack_file(ROOT / "stacks" / "Pulumi.fraud-dev.yaml").config
    assert isinstance(prod, TeamConfig) and isinstance(dev, TeamConfig)
    [scorer] = prod.served.models
    assert (scorer.regions, scorer.min_capacity, scorer.release.strategy) == (["eu-west-1", "us-east-1"], 2, "canary")
    assert (dev.served.models[0].instance_type, dev.served.models[0].max_capacity) == ("ml.t2.medium", 1)


def test_prod_sagemaker_model_names_its_drift_features_and_batch_needs_sagemaker_and_the_primary(tmp_path):
    sized = "        instanceType: ml.m5.large\n        maxCapacity: 4\n"
    assert problems(tmp_path, "prod", sized, drift=False) == [
        "line 12: ml-platform:serving.models.0.driftFeatures: prod monitors drift on SageMaker: name the input "
        "columns its alarm watches (driftFeatures: [amount, ...])"]
    assert problems(tmp_path, "dev", sized + "        driftFeatures: [amount, amount]\n") == [
        "line 17: ml-platform:serving.models.0.driftFeatures.1: 'amount': a column name (letters, digits, '_', "
        "'.', '-'), once"]
    assert problems(tmp_path, "dev", sized + "        regions: [us-east-1]\n        batchSchedule: rate(1 day)\n") == [
        "line 18: ml-platform:serving.models.0.batchSchedule: batch scoring runs in the primary region (eu-west-1), "
        "next to the curated bucket: serve the model there too"]
    kubernetes = "        target: kubernetes\n        resources: {cpu: '1', memory: 1Gi}\n        maxCapacity: 2\n"
    assert problems(tmp_path, "dev", kubernetes + "        batchSchedule: rate(1 day)\n") == [
        "line 18: ml-platform:serving.models.0.batchSchedule: batch scoring runs as a SageMaker batch transform of "
        "the model: serve it with target: sagemaker, or remove batchSchedule"]
