"""The interface every target implements, and the requests and results they exchange.

A target trains a job (channels are S3 prefixes, the model goes back to S3 as ``model.tar.gz``),
deploys an approved model package to a named endpoint, invokes it, reports its status and stops it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from platform_lib.contract import TeamOutputs
from platform_lib.registry import Package

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A progress callback that shows nothing."""


class TargetError(Exception):
    """A request the target refuses or a job/endpoint that failed; the message says why."""


@dataclass(frozen=True)
class TrainingRequest:
    job_name: str
    model: str                                  # the team's model name (its package group)
    team: TeamOutputs
    image: str
    channels: dict[str, str]                    # channel -> s3://bucket/prefix/
    hyperparameters: dict[str, str] = field(default_factory=dict)   # values are strings, as SageMaker's
    source_uri: str | None = None               # s3://.../sourcedir.tar.gz (the user's code)
    entry_point: str | None = None              # file inside the source bundle
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    spot: bool = False
    max_runtime_s: int = 3600
    environment: dict[str, str] = field(default_factory=dict)
    metric_names: tuple[str, ...] = ()          # the names the code prints per epoch (training.metrics)

    @property
    def metric_definitions(self) -> list[dict[str, str]]:
        """MetricDefinitions for CreateTrainingJob: of ``metric_names``, else of the built-in example."""
        if self.metric_names:
            from training.metrics import definitions

            return definitions(self.metric_names)
        from training.examples.digits.metrics import METRIC_DEFINITIONS

        return [dict(d) for d in METRIC_DEFINITIONS]

    @property
    def all_hyperparameters(self) -> dict[str, str]:
        """The user's plus the sagemaker-training toolkit's entry-point keys (JSON-encoded strings)."""
        extra = {}
        if self.source_uri and self.entry_point:
            extra = {"sagemaker_program": f'"{self.entry_point}"', "sagemaker_submit_directory": f'"{self.source_uri}"'}
        return {**self.hyperparameters, **extra}


@dataclass(frozen=True)
class TrainingResult:
    job_name: str
    target: str
    status: str                                 # Completed | Failed | Stopped
    model_data_url: str | None
    model_sha256: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    data_sha256: str | None = None
    git_revision: str | None = None
    failure_reason: str | None = None
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"jobName": self.job_name, "target": self.target, "status": self.status,
                "modelDataUrl": self.model_data_url, "modelSha256": self.model_sha256, "metrics": self.metrics,
                "dataSha256": self.data_sha256, "gitRevision": self.git_revision,
                "failureReason": self.failure_reason, "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class DeployRequest:
    endpoint: str
    package: Package
    team: TeamOutputs
    instance_type: str = "ml.m5.large"
    instance_count: int = 1


@dataclass(frozen=True)
class Deployment:
    endpoint: str
    target: str
    status: str                                 # InService | Creating | Updating | Failed | Stopped ...
    package_arn: str | None = None
    url: str | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "target": self.target, "status": self.status,
                "packageArn": self.package_arn, "url": self.url, "detail": self.detail}


class Target(ABC):
    name: str

    @abstractmethod
    def train(self, request: TrainingRequest, progress: Progress = quiet) -> TrainingResult: ...

    @abstractmethod
    def deploy(self, request: DeployRequest, progress: Progress = quiet) -> Deployment: ...

    @abstractmethod
    def invoke(self, endpoint: str, body: bytes, content_type: str = "application/json",
               accept: str = "application/json") -> bytes: ...

    @abstractmethod
    def status(self, endpoint: str) -> Deployment: ...

    @abstractmethod
    def stop(self, endpoint: str) -> Deployment: ...
