"""Hyperparameters as the sagemaker-training toolkit hands them over, and validation for user code.

SageMaker writes every value of ``input/config/hyperparameters.json`` as a string. The runtime
decodes them as the toolkit does (``json.loads`` where that works, the string otherwise), keeps the
SageMaker-reserved ones (``sagemaker_*``, ``_tuning_objective_metric``) for itself, and passes the
rest to the user's entry point as ``SM_HPS``/``SM_HP_<NAME>`` and as command-line arguments
(:func:`to_cmd_args`). User code reads them back with :func:`from_cmd_args` and validates them with
a pydantic model through :func:`validate`, which turns every problem into one readable
:class:`~training.errors.HyperparameterError`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from training.errors import HyperparameterError

# Keys SageMaker or its SDK add on their own: framework estimators add ``sagemaker_program`` and
# friends, automatic model tuning adds ``_tuning_objective_metric``. They are the runtime's, not the user's.
RESERVED_PREFIXES = ("sagemaker_", "_")
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"

Model = TypeVar("Model", bound=BaseModel)


def decode(raw: Mapping[str, Any], text_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Decode JSON-encoded strings as the sagemaker-training toolkit does ("10" -> 10, '"adam"' -> adam).

    A name in ``text_fields`` keeps its string when that does not decode to a string ("0" stays "0").
    """
    decoded = {}
    for key, value in raw.items():
        key = str(key)
        if isinstance(value, str):
            try:
                loaded = json.loads(value)
            except json.JSONDecodeError:
                loaded = value
            if key not in text_fields or isinstance(loaded, str):
                value = loaded
        decoded[key] = value
    return decoded


def split_reserved(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the user's hyperparameters, the SageMaker-reserved ones)."""
    user = {k: v for k, v in values.items() if not k.startswith(RESERVED_PREFIXES)}
    return user, {k: v for k, v in values.items() if k not in user}


def _arg_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return "" if value is None else str(value)


def to_cmd_args(values: Mapping[str, Any]) -> list[str]:
    """The toolkit's command line: ``--name value`` per hyperparameter (``-n`` for one-letter names),
    sorted by name; values as ``str()`` of the decoded value, mappings as ``k=v,k2=v2``."""
    args: list[str] = []
    for name in sorted(values):
        args += [f"--{name}" if len(name) > 1 else f"-{name}", _arg_value(values[name])]
    return args


def from_cmd_args(argv: Sequence[str]) -> dict[str, str]:
    """The inverse of :func:`to_cmd_args` for user code: ``["--lr", "0.1"]`` -> ``{"lr": "0.1"}``."""
    if len(argv) % 2:
        raise HyperparameterError(f"expected '--name value' pairs, got {list(argv)!r}.")
    values: dict[str, str] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        name = flag.removeprefix("--") if flag.startswith("--") else flag.removeprefix("-")
        if not name or name == flag:
            raise HyperparameterError(f"expected '--name value' pairs, got {flag!r} where a --name belongs.")
        values[name] = value
    return values


def _is_text(annotation: Any) -> bool:
    if get_origin(annotation) is Literal:
        return all(isinstance(a, str) for a in get_args(annotation))
    return annotation is str


def text_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` whose values are text (kept as given by :func:`decode`)."""
    return frozenset(name for name, f in model.model_fields.items() if _is_text(f.annotation))


def _describe(model: type[BaseModel], error: Mapping[str, Any], raw: Mapping[str, Any]) -> str:
    name = str(error["loc"][0]) if error["loc"] else "hyperparameters"
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(name, list(model.model_fields), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown hyperparameter '{name}'{hint}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{name}={raw.get(name)!r}: {message[0].lower()}{message[1:]}"


def validate(model: type[Model], raw: Mapping[str, Any]) -> Model:
    """Decode and validate ``raw`` with ``model``; one readable error for all problems.

    Reserved keys (``sagemaker_*``, ``_*``) are dropped first, so the same call works on
    ``hyperparameters.json`` as written by SageMaker and on the command-line arguments of the runtime.
    """
    values, _ = split_reserved(decode(raw, text_fields(model)))
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(_describe(model, e, raw) for e in exc.errors())
        allowed = ", ".join(model.model_fields)
        raise HyperparameterError(f"{problems}. Known hyperparameters: {allowed}.") from None


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if get_origin(annotation) is tuple:
        return f"list of {get_args(annotation)[0].__name__}"
    return getattr(annotation, "__name__", str(annotation))


def table(model: type[BaseModel]) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, description) for every field of ``model``, for docs and ``--help``."""
    return [(name, _type_name(f.annotation), f.default, f.description or "") for name, f in model.model_fields.items()]
