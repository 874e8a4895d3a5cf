"""Environment defaults: each section declares its own, and they merge deeply under a stack's values."""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from .base import Environment, Section


def deep_merge(defaults: Any, given: Any) -> Any:
    """``given`` over ``defaults``: mappings merge key by key, lists of named items merge by ``name``.

    Anything else the stack states replaces the default whole (a list of regions, a number). A named
    item of a default list can be changed by naming it, not removed.
    """
    if isinstance(defaults, Mapping) and isinstance(given, Mapping):
        merged = {key: copy.deepcopy(value) for key, value in defaults.items()}
        for key, value in given.items():
            merged[key] = deep_merge(defaults[key], value) if key in defaults else value
        return merged
    if _named_items(defaults) and _named_items(given):
        by_name = {item["name"]: item for item in given}
        merged_items = [deep_merge(item, by_name.pop(item["name"], {})) for item in defaults]
        return merged_items + [item for item in given if item["name"] in by_name]
    return given


def _named_items(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) and "name" in item for item in value)


def sections(model: type[BaseModel]) -> dict[str, type[Section]]:
    """The sections of a stack model by their YAML key, from its fields' types."""
    found: dict[str, type[Section]] = {}
    for name, field in model.model_fields.items():
        for candidate in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, Section):
                found[field.alias or name] = candidate
    return found


def environment_defaults(model: type[BaseModel], environment: Environment) -> dict[str, Any]:
    """What a stack of ``model`` in ``environment`` gets unless its file says otherwise."""
    return {
        key: copy.deepcopy(dict(section.DEFAULTS[environment]))
        for key, section in sections(model).items()
        if environment in section.DEFAULTS
    }


def with_defaults(model: type[BaseModel], data: Any) -> Any:
    """``data`` (a stack's camelCase values) with its environment's defaults merged under it."""
    if not isinstance(data, Mapping) or data.get("environment") not in typing.get_args(Environment):
        return data
    merged = dict(data)
    for key, defaults in environment_defaults(model, data["environment"]).items():
        given = data.get(key)
        if given is None:
            merged[key] = defaults
        elif isinstance(given, Mapping):
            merged[key] = deep_merge(defaults, given)
    return merged

