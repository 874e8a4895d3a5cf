"""Plain values and unknowns: what every rule reads instead of raw ``props``.

:func:`props_of` turns pulumi-policy's unknown-checking proxies (real CLI), pulumi mock values
(offline plan) and plain dicts (tests) into plain Python data where every value that cannot be known
at preview time is the :data:`UNKNOWN` singleton. A rule then decides explicitly what "unknown" means
for it (almost always: not a violation), instead of pulumi-policy aborting the whole rule with an
``UnknownValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pulumi_policy import Secret
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)


class _Unknown:
    """Marker for a value that cannot be known during preview."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:  # an unknown is never "set and true"
        return False


UNKNOWN: Any = _Unknown()
"""The single value every unknown input is converted to by :func:`plain`."""

# The engine's "computed" sentinels, as pulumi-policy names them (pulumi.runtime.rpc uses the same strings).
_UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
})
# How pulumi serializes a secret: {SPECIAL_SIG_KEY: SECRET_SIG, "value": ...} (private names in
# pulumi.runtime.rpc; tests/policies/test_policy_constants.py pins them to the SDK's).
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def _is_pulumi_unknown(value: Any) -> bool:
    """True for ``pulumi.output.Unknown`` (what mocks deliver for unknowns during a dry run)."""
    cls = type(value)
    return cls.__name__ == "Unknown" and cls.__module__.startswith("pulumi.")


def is_unknown(value: Any) -> bool:
    """True when ``value`` cannot be known at preview time (plain or raw form)."""
    return (
        value is UNKNOWN
        or (isinstance(value, str) and value in _UNKNOWN_SENTINELS)
        or _is_pulumi_unknown(value)
    )


def is_known(value: Any) -> bool:
    """True when ``value`` is present (not None) and not unknown."""
    return value is not None and not is_unknown(value)


def plain(value: Any) -> Any:
    """Deep-copy ``value`` into dicts, lists and scalars, unwrapping secrets and marking unknowns.

    Accepts pulumi-policy proxies (reading them item by item so an unknown never raises), pulumi's
    serialized secrets (``{SPECIAL_SIG_KEY: SECRET_SIG, "value": ...}``), ``pulumi_policy.Secret``,
    ``pulumi.output.Unknown`` and the engine's unknown sentinel strings.
    """
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        keys = list(iter(value))  # iterating a proxy never reads (so never raises on) values
        if SPECIAL_SIG_KEY in keys and _safe_item(value, SPECIAL_SIG_KEY) == SECRET_SIG:
            return plain(_safe_item(value, "value"))
        return {key: plain(_safe_item(value, key)) for key in keys}
    if isinstance(value, Sequence):
        return [plain(_safe_item(value, i)) for i in range(len(value))]
    return value


def _safe_item(container: Any, key: Any) -> Any:
    """``container[key]`` where an unknown value yields :data:`UNKNOWN` instead of raising."""
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


class HasProps(Protocol):
    """What rules read of a resource: ``ResourceValidationArgs`` and ``PolicyResource`` both fit."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str


def props_of(resource: HasProps) -> dict[str, Any]:
    """The resource's inputs (or outputs, for stack rules) as plain data; see :func:`plain`."""
    props = plain(resource.props)
    return props if isinstance(props, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``None`` -> ``[]``, a scalar -> ``[scalar]``, a list stays a list (IAM/AWS one-or-many)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_number(value: Any) -> float | None:
    """A known number (mocks deliver ints as floats, config may deliver strings), else None."""
    if isinstance(value, bool) or not is_known(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_true(value: Any) -> bool:
    """True only for a known boolean true (or the string "true")."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def display_name(resource: HasProps, *keys: str) -> str:
    """The first known string among ``props[keys]`` (e.g. the bucket name), else the logical name."""
    props = props_of(resource)
    for key in keys:
        value = props.get(key)
        if isinstance(value, str) and is_known(value) and value:
            return value
    return resource.name
