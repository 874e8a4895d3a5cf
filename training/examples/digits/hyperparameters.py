"""The digits example's hyperparameters (SageMaker delivers every value as a string)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from training import hyperparameters


class Hyperparameters(BaseModel):
    """The trainer's knobs, with the defaults a job gets when it does not set them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(10, gt=0, description="passes over the training channel")
    batch_size: int = Field(64, gt=0, description="examples per step on each process")
    lr: float = Field(1e-3, gt=0, allow_inf_nan=False, description="learning rate")
    weight_decay: float = Field(0.0, ge=0, allow_inf_nan=False, description="L2 penalty")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="optimizer")
    momentum: float = Field(0.9, ge=0, lt=1, description="sgd momentum (ignored by adam)")
    hidden_sizes: tuple[int, ...] = Field((128, 64), description="hidden layer widths, e.g. '128,64'")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout after each hidden layer")
    seed: int = Field(42, ge=0, lt=2**32, description="seeds init, shuffling and dropout")
    label_column: str = Field("label", min_length=1, description="CSV column holding the class")
    feature_columns: tuple[str, ...] = Field((), description="CSV columns to train on, e.g. 'amount,count_24h' "
                                             "(default: every column but the label)")

    @field_validator("epochs", "batch_size", "seed", "lr", "weight_decay", "momentum", "dropout", mode="before")
    @classmethod
    def _not_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number, not a boolean")
        return value

    @field_validator("hidden_sizes", mode="before")
    @classmethod
    def _split_sizes(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            if not parts or not all(p.isdigit() for p in parts):
                raise ValueError("must be a comma-separated list of positive integers, e.g. '128,64'")
            return tuple(int(p) for p in parts)
        return value

    @field_validator("feature_columns", mode="before")
    @classmethod
    def _split_columns(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("hidden_sizes")
    @classmethod
    def _positive_sizes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(size <= 0 for size in value):
            raise ValueError("must list at least one layer, every width a positive integer")
        return value

    def resume_key(self) -> dict[str, Any]:
        """What must match for a checkpoint to be resumed (``epochs`` may grow or shrink)."""
        return self.model_dump(mode="json", exclude={"epochs"})


def parse(raw: Mapping[str, Any]) -> Hyperparameters:
    """Validate hyperparameters as delivered by SageMaker or on the command line."""
    return hyperparameters.validate(Hyperparameters, raw)
