"""The ``modelRegistry`` section: a team's models, each with the metric gates that decide its promotion.

    ml-platform:modelRegistry:
      readerAccounts: ["222222222222"]        # the organisation's other environment accounts
      models:
        - name: fraud-scorer
          description: Scores card transactions for fraud
          gates: ["validation_accuracy >= 0.95", "p99_latency_ms < 50"]

Each model gets a SageMaker model package group ``<team>-<env>-<name>`` that only ``readerAccounts``
may read from outside the stack's own account, and a model card template.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import PER_ENVIRONMENT, AccountId, Invalid, Model, Section, refuse_repeats

MODEL_NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"
Comparison = Literal[">=", ">", "<=", "<"]
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.:/-]*)\s*(>=|<=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE]-?[0-9]+)?)\s*$")


class Gate(Model):
    """``metric op threshold``: a registered model version may be approved only if its metric passes."""

    metric: str
    comparison: Comparison
    threshold: float

    def passes(self, value: float) -> bool:
        return COMPARISONS[self.comparison](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric} {self.comparison} {self.threshold:g}"


def parse_gate(value: object) -> object:
    """``"validation_accuracy >= 0.95"`` -> ``{metric, comparison, threshold}``; anything else is refused."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a gate; write it as text, e.g. \"validation_accuracy >= 0.95\"")
    match = _GATE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a gate: write '<metric> <comparison> <number>' with a comparison "
                         f"of {', '.join(COMPARISONS)}, e.g. \"validation_accuracy >= 0.95\"")
    metric, comparison, threshold = match.groups()
    return {"metric": metric, "comparison": comparison, "threshold": float(threshold)}


# An ECR repository path with a tag or digest, without the registry host (`fraud/training:1.2.0`).
IMAGE = r"^[a-z0-9][a-z0-9._/-]{0,254}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"


class Retraining(Model):
    """A SageMaker Pipeline that retrains the model on a schedule, on new data, or both, and registers a version that
    meets its gates as ``PendingManualApproval`` (``platform_lib/pipeline``). Its data is ``s3://<curated>/
    <dataPrefix>{train,validation}/`` (label events when ``featureGroup`` is set); its image an ECR repository path
    of the platform's registry in the primary region."""

    image: str = Field(pattern=IMAGE, description="training image: ECR repository path with a tag or digest")
    serving_image: str = Field(pattern=IMAGE, description="the image the registered version is served with")
    schedule: str | None = Field(default=None, pattern=r"^(cron|rate)\(.+\)$", json_schema_extra=PER_ENVIRONMENT,
                                 description="EventBridge Scheduler expression (UTC); none: started by hand")
    instance_type: str = Field(default="ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
                               json_schema_extra=PER_ENVIRONMENT)
    max_runtime_minutes: int = Field(default=60, ge=1, le=5 * 24 * 60)
    data_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9!_.*'()/-]+/$",
                                    description="default training/<model>/ in the curated bucket")
    hyperparameters: dict[str, str] = Field(default_factory=dict, description="values are strings, as SageMaker's")
    feature_group: str | None = Field(
        default=None, description="a declared feature group (with an offline store): the pipeline's Prepare step "
        "builds its point-in-time training set for the label events under <dataPrefix><channel>/, as `mlp train "
        "--channel NAME=features:GROUP@LABELS` does; none: the channels' files are taken as they are")
    on_new_data: bool = Field(default=False, description="also start the pipeline when an object is created under "
                              "dataPrefix in the curated bucket (S3 -> EventBridge); with or without a schedule")
    new_data_marker: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9!_.()'-]{1,64}$", description="with onNewData: only an object whose name "
        "ends so starts it (e.g. _READY, written after a batch of files), not every file of the batch")

    @model_validator(mode="after")
    def _marker_needs_the_trigger(self) -> Retraining:
        if self.new_data_marker is not None and not self.on_new_data:
            raise Invalid("newDataMarker only applies to the new-data trigger: set onNewData: true, or remove it",
                          at=("newDataMarker",))
        return self


class ModelDeclaration(Model):
    name: Annotated[str, Field(pattern=MODEL_NAME, description="2-32 lowercase letters, digits and '-'")]
    description: str = Field(min_length=1, max_length=1000)
    gates: list[Annotated[Gate, Field()]] = Field(default_factory=list)
    retraining: Retraining | None = None

    @model_validator(mode="after")
    def _trigger_does_not_see_the_pipelines_writes(self) -> ModelDeclaration:
        """Prepare writes under ``pipelines/<model>/`` in the curated bucket: a new-data trigger there would loop."""
        retraining = self.retraining
        if retraining is not None and retraining.on_new_data and retraining.data_prefix:
            own = f"pipelines/{self.name}/"
            if own.startswith(retraining.data_prefix) or retraining.data_prefix.startswith(own):
                raise Invalid(f"dataPrefix {retraining.data_prefix} overlaps {own}, where the pipeline writes its "
                              f"prepared channels: with onNewData each run would start the next", at=(
                                  "retraining", "dataPrefix"))
        return self

    @model_validator(mode="after")
    def _retraining_is_gated(self) -> ModelDeclaration:
        if self.retraining is not None and not self.gates:
            raise Invalid("a retrained version is registered only when it meets the model's gates: declare at least "
                          "one gate (e.g. \"validation_accuracy >= 0.95\")", at=("gates",))
        return self

    @field_validator("gates", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return [parse_gate(item) for item in value] if isinstance(value, list) else value

    @field_validator("gates")
    @classmethod
    def _one_gate_per_metric_and_direction(cls, gates: list[Gate]) -> list[Gate]:
        seen = [(g.metric, g.comparison[0]) for g in gates]
        twice = sorted({m for m, d in seen if seen.count((m, d)) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} gated twice in the same direction; keep one bound")
        return gates


class ModelRegistryConfig(Section):
    """The team's models (one model package group each) and who may read them from other accounts."""

    models: list[ModelDeclaration] = Field(default_factory=list)
    reader_accounts: list[AccountId] = Field(
        default_factory=list, description="the organisation's other environment accounts (cross-account promotion)",
        json_schema_extra=PER_ENVIRONMENT)

    @field_validator("models")
    @classmethod
    def _unique_models(cls, models: list[ModelDeclaration]) -> list[ModelDeclaration]:
        refuse_repeats([m.name for m in models])
        return models

    @field_validator("reader_accounts")
    @classmethod
    def _unique_accounts(cls, accounts: list[str]) -> list[str]:
        refuse_repeats(accounts, "listed", quote=False)
        return accounts

    def model(self, name: str) -> ModelDeclaration:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(f"unknown model {name!r}; declared: {', '.join(m.name for m in self.models) or 'none'}")
