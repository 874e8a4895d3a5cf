"""A small IAM evaluator for tests: does a set of statements allow or deny an action on a resource in a
request context? Implements the condition operators the blueprint's documents use, with AWS's rules
for missing keys (`...IfExists` and negated operators match when the key is absent; `ForAnyValue`
does not; `Null` tests presence)."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

Context = dict[str, Any]


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatchcase(value, p) for p in _listed(patterns))


def _operator(name: str, expected: Any, present: bool, values: list[str]) -> bool:
    if name == "Null":
        return (str(expected).lower() == "true") != present
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    prefix, _, op = base.rpartition(":")
    negated = "Not" in op
    if not present:
        return if_exists or (negated and not prefix)
    positive = op.replace("Not", "")
    if positive in ("StringEquals", "ArnEquals"):
        test = lambda v: v in [str(e) for e in _listed(expected)]  # noqa: E731
    elif positive in ("StringLike", "ArnLike"):
        test = lambda v: _matches(expected, v)  # noqa: E731
    elif positive == "Bool":
        test = lambda v: v.lower() == str(expected).lower()  # noqa: E731
    else:
        raise ValueError(f"operator {name} is not implemented by this evaluator")
    hits = [test(v) for v in values]
    if prefix == "ForAnyValue":
        return any(not h for h in hits) if negated else any(hits)
    if prefix == "ForAllValues":
        return all(not h for h in hits) if negated else all(hits)
    return (not any(hits)) if negated else any(hits)


def conditions_hold(condition: dict[str, dict[str, Any]], context: Context) -> bool:
    for operator, keys in condition.items():
        for key, expected in keys.items():
            present = key in context
            values = [str(v) for v in _listed(context.get(key))] if present else []
            if not _operator(operator, expected, present, values):
                return False
    return True


def applies(statement: dict, action: str, resource: str, context: Context) -> bool:
    actions = statement.get("Action", [])
    if not _matches(actions, action):
        return False
    if not _matches(statement.get("Resource", "*"), resource):
        return False
    return conditions_hold(statement.get("Condition", {}), context)


def allowed(statements: Iterable[dict], action: str, resource: str, context: Context | None = None) -> bool:
    """True if an Allow statement applies and no Deny statement does."""
    context = context or {}
    statements = list(statements)
    if any(s["Effect"] == "Deny" and applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and applies(s, action, resource, context) for s in statements)


def denied(statements: Iterable[dict], action: str, resource: str, context: Context | None = None) -> bool:
    return any(s["Effect"] == "Deny" and applies(s, action, resource, context or {}) for s in statements)
