"""Hyperparameters: SageMaker delivers every value as a string; parse and validate them here."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from training.errors import HyperparameterError

# Keys SageMaker or its SDK add on their own: framework estimators add ``sagemaker_program`` and
# friends, automatic model tuning adds ``_tuning_objective_metric``. They are not ours to validate.
RESERVED_PREFIXES = ("sagemaker_", "_")


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

    @field_validator("hidden_sizes")
    @classmethod
    def _positive_sizes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(size <= 0 for size in value):
            raise ValueError("must list at least one layer, every width a positive integer")
        return value

    def resume_key(self) -> dict[str, Any]:
        """What must match for a checkpoint to be resumed (``epochs`` may grow or shrink)."""
        return self.model_dump(mode="json", exclude={"epochs"})


def _is_text(annotation: Any) -> bool:
    if get_origin(annotation) is Literal:
        return all(isinstance(a, str) for a in get_args(annotation))
    return annotation is str


_TEXT_FIELDS = frozenset(name for name, f in Hyperparameters.model_fields.items() if _is_text(f.annotation))


def decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Decode JSON-encoded strings as the sagemaker-training toolkit does ("10" -> 10, '"adam"' -> adam).

    A text hyperparameter keeps its string when that does not decode to a string ("0" stays "0").
    """
    decoded = {}
    for key, value in raw.items():
        key = str(key)
        if isinstance(value, str):
            try:
                loaded = json.loads(value)
            except json.JSONDecodeError:
                loaded = value
            if key not in _TEXT_FIELDS or isinstance(loaded, str):
                value = loaded
        decoded[key] = value
    return decoded


def _describe(error: Mapping[str, Any], raw: Mapping[str, Any]) -> str:
    name = str(error["loc"][0]) if error["loc"] else "hyperparameters"
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, list(Hyperparameters.model_fields), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown hyperparameter '{name}'{hint}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{name}={raw.get(name)!r}: {message[0].lower()}{message[1:]}"


def parse(raw: Mapping[str, Any]) -> Hyperparameters:
    """Validate hyperparameters as delivered by SageMaker; raise one readable error for all problems."""
    values = {k: v for k, v in decode(raw).items() if not k.startswith(RESERVED_PREFIXES)}
    try:
        return Hyperparameters.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(_describe(e, raw) for e in exc.errors())
        allowed = ", ".join(Hyperparameters.model_fields)
        raise HyperparameterError(f"{problems}. Known hyperparameters: {allowed}.") from None


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if get_origin(annotation) is tuple:
        return f"list of {get_args(annotation)[0].__name__}"
    return getattr(annotation, "__name__", str(annotation))


def table() -> list[tuple[str, str, Any, str]]:
    """(name, type, default, description) for every hyperparameter, for docs and ``--help``."""
    return [
        (name, _type_name(f.annotation), f.default, f.description or "")
        for name, f in Hyperparameters.model_fields.items()
    ]
