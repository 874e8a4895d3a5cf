"""The rule registry and per-environment enforcement, shared by the CLI pack and the offline plan.

Rules are discovered: every module in ``policies/rules/`` must define ``RULE``. Enforcement per
environment lives in ``policies/config/<env>.json`` (pulumi's policy-config format), which is
also what ``pulumi preview --policy-pack-config`` reads, so the CLI and ``mlp plan`` agree.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from policies import rules as _rules_package
from policies.rule import Rule

PACK_NAME = "ml-platform"
PACK_DESCRIPTION = "ML platform guardrails: AWS FSBP/CIS-mapped rules for platform and team stacks."
DEFAULT_LEVEL = EnforcementLevel.MANDATORY
"""Level without any config (secure by default): also the level of an unknown environment."""

CONFIG_DIR = Path(__file__).resolve().parent / "config"
ALL = "all"


def discover_rules() -> list[Rule]:
    """``RULE`` of every module in ``policies.rules``, sorted by id; fails on a module without one."""
    found: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(_rules_package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_rules_package.__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise TypeError(f"policies/rules/{info.name}.py must define RULE = Rule(...)")
        found.append(rule)
    ids = [r.id for r in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
    return sorted(found, key=lambda r: r.id)


RULES: list[Rule] = discover_rules()


def parse_level(value: str | EnforcementLevel | Mapping[str, Any]) -> EnforcementLevel:
    """An enforcement level from ``"advisory"``, an ``EnforcementLevel`` or ``{"enforcementLevel": ...}``."""
    if isinstance(value, Mapping):
        value = value["enforcementLevel"]
    if isinstance(value, EnforcementLevel):
        return value
    try:
        return EnforcementLevel(str(value).lower())
    except ValueError:
        allowed = ", ".join(level.value for level in EnforcementLevel)
        raise ValueError(f"enforcement level {value!r} is not one of {allowed}") from None


def load_config(env: str) -> dict[str, Any]:
    """The policy config of an environment (``policies/config/<env>.json``); {} when there is none."""
    path = CONFIG_DIR / f"{env}.json"
    if not path.is_file():
        return {}
    config = json.loads(path.read_text())
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return config


def _merged(env: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**load_config(env), **dict(overrides or {})}


def enforcement_for(env: str, overrides: Mapping[str, Any] | None = None) -> EnforcementLevel:
    """The pack-wide level of an environment: ``"all"`` of its config, else :data:`DEFAULT_LEVEL`.

    ``overrides`` uses the same policy-config format and wins over the file (e.g.
    ``{"all": "mandatory"}`` to make dev blocking).
    """
    config = _merged(env, overrides)
    level = config.get(ALL)
    if isinstance(level, Mapping) and "enforcementLevel" not in level:
        level = None
    return parse_level(level) if level is not None else DEFAULT_LEVEL


def levels_for(env: str, overrides: Mapping[str, Any] | None = None) -> dict[str, EnforcementLevel]:
    """Each rule id's level in ``env``: its own config entry, else :func:`enforcement_for`."""
    config = _merged(env, overrides)
    unknown = sorted(set(config) - {ALL} - {r.id for r in RULES})
    if unknown:
        raise KeyError(f"policy config names unknown rule(s) {', '.join(unknown)}")
    default = enforcement_for(env, overrides)
    levels = {}
    for rule in RULES:
        entry = config.get(rule.id)
        has_level = not isinstance(entry, Mapping) or "enforcementLevel" in entry
        levels[rule.id] = parse_level(entry) if entry is not None and has_level else default
    return levels


def rule_config_for(env: str, rule_id: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The config properties (everything but ``enforcementLevel``) given to ``rule_id`` in ``env``.

    Pass them as ``config=`` of ``ResourceValidationArgs``/``StackValidationArgs`` offline; the
    CLI does the same from ``--policy-pack-config``.
    """
    entry = _merged(env, overrides).get(rule_id)
    if not isinstance(entry, Mapping):
        return {}
    return {k: v for k, v in entry.items() if k != "enforcementLevel"}


def build_policies(level: EnforcementLevel | None = None,
                   overrides: Mapping[str, str | EnforcementLevel] | None = None) -> list[Policy]:
    """One pulumi-policy policy per rule, at ``level`` (None: defer to pack level and CLI config).

    ``overrides`` maps rule ids to levels (e.g. the result of :func:`levels_for`).
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - {r.id for r in RULES})
    if unknown:
        raise KeyError(f"unknown rule(s) {', '.join(unknown)}")
    return [rule.to_policy(parse_level(overrides[rule.id]) if rule.id in overrides else level)
            for rule in RULES]
