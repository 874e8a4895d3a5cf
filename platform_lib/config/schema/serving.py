"""The ``serving`` section: the team's deployed models, each on SageMaker or Kubernetes, in some of the
team's serving regions, with capacity, autoscaling, rollout and data capture.

A declaration in YAML::

    ml-platform:serving:
      hostedZone: {name: ml.example.com, id: Z0123456789ABCDEFGHIJ}
      models:
        - name: scorer
          image: fraud/serving:1.4.0            # ECR repository path; each region pulls its replica
          modelData: scorer/3/model.tar.gz      # key in the team's models bucket of each region
          instanceType: ml.m5.large
          maxCapacity: 6

Section-level keys (``minCapacity``, ``rolloutStrategy``, ``dataCapturePercent``) are the environment's defaults
for every model; a model may override them. Prod refuses fewer than 2 instances, all-at-once rollouts,
and no data capture (``TeamConfig`` checks that, it knows the environment). Serverless inference is refused
in every environment: it runs outside the VPC, without network isolation.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from .base import PER_ENVIRONMENT, Invalid, Model, Region, Section

MODEL_NAME = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"
# An ECR repository path and tag or digest, without the registry host (`fraud/serving:1.4.0`).
IMAGE = r"^[a-z0-9][a-z0-9._/-]{0,254}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$"


class Rollout(Model):
    """How a new version takes traffic: at once, a canary share then the rest, or linear steps.

    Canary and linear watch the endpoint's alarms while they shift and roll back when one fires."""

    strategy: Literal["all-at-once", "canary", "linear"]
    percent: int = Field(default=10, ge=1, le=50, description="canary share, or each linear step")
    wait_minutes: int = Field(default=10, ge=1, le=60, description="bake time per step (alarms watched)")


class Autoscaling(Model):
    metric: Literal["invocations", "cpu"] | None = Field(
        default=None, description="invocations per instance (SageMaker) or CPU percent (Kubernetes)")
    target: int | None = Field(default=None, ge=1, le=100_000)


class Resources(Model):
    """Kubernetes requests (= limits for memory and GPUs) of one serving pod."""

    cpu: str = Field(pattern=QUANTITY)
    memory: str = Field(pattern=QUANTITY)
    gpus: int = Field(default=0, ge=0, le=8)
    cpu_limit: str | None = Field(default=None, pattern=QUANTITY, description="CPU limit (default: the request)")
    pool: str | None = Field(default=None, description="GPU node pool of the platform (default: the first that fits)")

    @model_validator(mode="after")
    def _limits(self) -> Resources:
        if self.cpu_limit is not None and _cores(self.cpu_limit) < _cores(self.cpu):
            raise Invalid(f"{self.cpu_limit} is less than the cpu request ({self.cpu})", at=("cpuLimit",))
        if self.pool is not None and not self.gpus:
            raise Invalid("pool picks a GPU node pool; set gpus or remove pool", at=("pool",))
        return self


def _cores(quantity: str) -> float:
    """A CPU quantity in cores (`500m` -> 0.5)."""
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity.rstrip("KMGTi"))


class Serverless(Model):
    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(default=5, ge=1, le=200)


class ServedModel(Model):
    """One deployed model. ``None`` fields take the section's value (see ``ServingConfig``)."""

    name: str = Field(pattern=MODEL_NAME, description="lowercase letters, digits, '-', 2-24 chars")
    target: Literal["sagemaker", "kubernetes"] = "sagemaker"
    # Capacity, placement, rollout and capture are sized per environment: `mlp promote infra` keeps the target's.
    regions: list[Region] | None = Field(default=None, description="a subset of the serving regions",
                                         json_schema_extra=PER_ENVIRONMENT)
    image: str = Field(pattern=IMAGE, description="ECR repository path with a tag or digest")
    model_data: str = Field(pattern=r"^[A-Za-z0-9!_.*'()/-]+\.tar\.gz$",
                            description="key of model.tar.gz in the team's models bucket",
                            json_schema_extra=PER_ENVIRONMENT)   # each environment's bucket: mlp promote model moves it
    instance_type: str | None = Field(default=None, pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
                                      json_schema_extra=PER_ENVIRONMENT)
    resources: Resources | None = Field(default=None, json_schema_extra=PER_ENVIRONMENT)
    serverless: Serverless | None = Field(default=None, description="refused: see _target_fits")
    min_capacity: int | None = Field(default=None, ge=1, le=100, json_schema_extra=PER_ENVIRONMENT)
    max_capacity: int = Field(ge=1, le=100, json_schema_extra=PER_ENVIRONMENT)
    autoscaling: Autoscaling = Field(default=Autoscaling(), json_schema_extra=PER_ENVIRONMENT)
    rollout: Rollout | None = Field(default=None, json_schema_extra=PER_ENVIRONMENT)
    data_capture_percent: int | None = Field(default=None, ge=0, le=100, json_schema_extra=PER_ENVIRONMENT)
    error_alarm_percent: int = Field(default=1, ge=1, le=50, description="5xx share that rolls a release back")
    latency_alarm_ms: int = Field(default=1000, ge=10, le=60_000, description="p99 model latency that rolls back")
    batch_schedule: str | None = Field(default=None, pattern=r"^(cron|rate)\(.+\)$",
                                       description="score batch/<model>/input/ on this EventBridge schedule",
                                       json_schema_extra=PER_ENVIRONMENT)
    drift_features: list[str] = Field(default_factory=list, max_length=10,
                                      description="input columns whose drift from the baseline raises the alarm",
                                      json_schema_extra=PER_ENVIRONMENT)   # drift is watched in prod only
    drift_threshold: float = Field(default=0.1, gt=0, le=1,
                                   description="baseline drift distance (0-1) above which the alarm fires",
                                   json_schema_extra=PER_ENVIRONMENT)

    @model_validator(mode="after")
    def _target_fits(self) -> ServedModel:
        if self.target == "sagemaker":
            if self.resources is not None:
                raise Invalid("SageMaker takes an instanceType (GPU instance types for GPUs), not Kubernetes "
                              "resources; remove resources or set target: kubernetes", at=("resources",))
            if self.serverless is not None:
                raise Invalid("serverless endpoints run outside the VPC and without network isolation (SageMaker's "
                              "exclusions), which the data perimeter refuses; serve dev from one small instance "
                              "(instanceType: ml.t2.medium, maxCapacity: 1)", at=("serverless",))
            if self.instance_type is None:
                raise Invalid("a SageMaker model needs an instanceType (e.g. ml.m5.large; GPU: ml.g5.xlarge)",
                              at=("instanceType",))
            if self.autoscaling.metric == "cpu":
                raise Invalid("SageMaker endpoints scale on invocations per instance; cpu is for Kubernetes",
                              at=("autoscaling", "metric"))
        elif self.batch_schedule is not None:
            raise Invalid("batch scoring runs as a SageMaker batch transform of the model: serve it with target: "
                          "sagemaker, or remove batchSchedule", at=("batchSchedule",))
        else:
            for key, value in (("instanceType", self.instance_type), ("serverless", self.serverless)):
                if value is not None:
                    raise Invalid(f"{key} is for SageMaker; a Kubernetes model states resources", at=(key,))
            if self.resources is None:
                raise Invalid("a Kubernetes model needs resources: {cpu, memory, gpus}", at=("resources",))
            if self.autoscaling.metric == "invocations":
                raise Invalid("Kubernetes serving scales on cpu (HorizontalPodAutoscaler)",
                              at=("autoscaling", "metric"))
        if self.min_capacity is not None and self.min_capacity > self.max_capacity:
            raise Invalid(f"{self.min_capacity} is more than maxCapacity ({self.max_capacity})",
                          at=("minCapacity",))
        for index, feature in enumerate(self.drift_features):
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", feature) or feature in self.drift_features[:index]:
                raise Invalid(f"{feature!r}: a column name (letters, digits, '_', '.', '-'), once",
                              at=("driftFeatures", index))
        if self.regions is not None:
            for index, region in enumerate(self.regions):
                if region in self.regions[:index]:
                    raise Invalid(f"{region} is listed twice", at=("regions", index))
        return self

    # Resolved values: a loaded config has the section's defaults in every None field.
    @property
    def release(self) -> Rollout:
        return self.rollout or Rollout.model_validate({"strategy": "all-at-once"})

    @property
    def minimum(self) -> int:
        return self.min_capacity or 0

    @property
    def capture_percent(self) -> int:
        return self.data_capture_percent or 0

    @property
    def served_regions(self) -> list[str]:
        return list(self.regions or [])

    @property
    def gpus(self) -> int:
        return self.resources.gpus if self.resources else 0

    @property
    def scaling_metric(self) -> str:
        return self.autoscaling.metric or ("invocations" if self.target == "sagemaker" else "cpu")

    @property
    def scaling_target(self) -> int:
        return self.autoscaling.target or (100 if self.target == "sagemaker" else 60)


class HostedZone(Model):
    """The Route 53 zone that holds each model's stable hostname (`<model>.<team>.<zone>`)."""

    name: str = Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$")


class ServingConfig(Section):
    """The team's deployed models; section-level values are what a model gets unless it says otherwise."""

    DEFAULTS = {
        "dev": {"minCapacity": 1, "rolloutStrategy": "all-at-once", "dataCapturePercent": 0},
        "staging": {"minCapacity": 1, "rolloutStrategy": "canary", "dataCapturePercent": 0},
        "prod": {"minCapacity": 2, "rolloutStrategy": "canary", "dataCapturePercent": 20},
    }

    models: list[ServedModel] = Field(default_factory=list)
    min_capacity: int = Field(default=1, ge=1, le=100)
    rollout_strategy: Literal["all-at-once", "canary", "linear"] = "all-at-once"
    data_capture_percent: int = Field(default=0, ge=0, le=100)
    hosted_zone: HostedZone | None = Field(default=None, json_schema_extra=PER_ENVIRONMENT)  # a zone per env

    @model_validator(mode="after")
    def _resolve(self) -> ServingConfig:
        names = [m.name for m in self.models]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise Invalid(f"{name!r} is declared twice", at=("models", index, "name"))
        resolved = []
        for index, model in enumerate(self.models):
            floor = self.min_capacity if model.min_capacity is None else model.min_capacity
            if model.min_capacity is None and floor > model.max_capacity:
                raise Invalid(f"{model.max_capacity} is less than the minCapacity of the environment ({floor})",
                              at=("models", index, "maxCapacity"))
            resolved.append(model.model_copy(update={
                "min_capacity": floor,
                "rollout": model.rollout or Rollout.model_validate({"strategy": self.rollout_strategy}),
                "data_capture_percent": (self.data_capture_percent if model.data_capture_percent is None
                                         else model.data_capture_percent),
            }))
        object.__setattr__(self, "models", resolved)
        return self

    def model(self, name: str) -> ServedModel:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(f"unknown model {name!r}; declared: {', '.join(m.name for m in self.models) or 'none'}")
