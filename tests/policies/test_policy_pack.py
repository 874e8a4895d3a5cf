"""The registry, per-environment enforcement, policy construction and pack files."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policies import pack, rules
from policies.pack import RULES, build_policies, enforcement_for, levels_for

POLICIES_DIR = Path(pack.__file__).parent
ADVISORY, MANDATORY = EnforcementLevel.ADVISORY, EnforcementLevel.MANDATORY


def test_every_rule_module_is_registered_once():
    modules = [m.name for m in pkgutil.iter_modules(rules.__path__) if not m.name.startswith("_")]
    assert len(modules) == len(RULES)
    registered = {importlib.import_module(f"policies.rules.{m}").RULE.id for m in modules}
    assert registered == {r.id for r in RULES}


def test_rule_ids_are_unique_kebab_case():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


def test_every_rule_has_metadata_and_a_control_mapping():
    for rule in RULES:
        assert rule.control.split()[0] in ("AWS", "CIS", "NIST"), rule.id
        assert rule.severity in ("low", "medium", "high", "critical")
        assert rule.description.endswith(".") and len(rule.description) <= 120, rule.id
        assert rule.remediation, rule.id


def test_rule_resource_types_exist_in_pulumi_aws():
    from policies.support import _schema_taggable
    for rule in RULES:
        for resource_type in rule.resource_types or ():
            if resource_type.startswith("kubernetes:"):  # kubernetes:<group>/<version>:<Kind>
                group_version, kind = resource_type.split(":")[1:]
                group, version = group_version.split("/")
                module = importlib.import_module(f"pulumi_kubernetes.{group.split('.')[0]}.{version}")
                assert hasattr(module, kind), f"{rule.id}: {resource_type}"
                continue
            assert _schema_taggable(resource_type) is not None, f"{rule.id}: {resource_type}"


@pytest.mark.parametrize("env, level", [("dev", ADVISORY), ("staging", MANDATORY), ("prod", MANDATORY),
                                        ("qa", MANDATORY)])
def test_enforcement_per_environment(env, level):
    assert enforcement_for(env) is level


def test_enforcement_overrides():
    assert enforcement_for("dev", {"all": "mandatory"}) is MANDATORY
    assert enforcement_for("prod", {"all": {"enforcementLevel": "advisory"}}) is ADVISORY
    with pytest.raises(ValueError, match="advisory"):
        enforcement_for("dev", {"all": "loud"})


def test_per_rule_levels():
    dev = levels_for("dev")
    assert set(dev) == {r.id for r in RULES}
    assert dev["required-tags"] is ADVISORY
    assert dev["s3-bucket-public-access-blocked"] is MANDATORY  # critical even in dev
    assert set(levels_for("prod").values()) == {MANDATORY}
    assert levels_for("prod", {"required-tags": "disabled"})["required-tags"] is EnforcementLevel.DISABLED
    with pytest.raises(KeyError, match="no-such-rule"):
        levels_for("dev", {"no-such-rule": "advisory"})


def test_rule_config_for_returns_properties_only():
    rule = "cloudwatch-log-group-encrypted-retained"
    overrides = {rule: {"enforcementLevel": "advisory", "minRetentionDays": 90}}
    assert pack.rule_config_for("prod", rule, overrides) == {"minRetentionDays": 90}
    assert pack.rule_config_for("prod", "required-tags") == {}


def test_build_policies_names_kinds_and_levels():
    policies = build_policies(ADVISORY, {"iam-no-wildcard-actions": "mandatory"})
    assert [p.name for p in policies] == [r.id for r in RULES]
    for policy, rule in zip(policies, RULES, strict=True):
        expected = ResourceValidationPolicy if rule.kind == "resource" else StackValidationPolicy
        assert isinstance(policy, expected)
        assert policy.enforcement_level is (MANDATORY if rule.id == "iam-no-wildcard-actions" else ADVISORY)
        assert policy.description == rule.description
        assert policy.severity is not None and policy.severity.value == rule.severity
    assert all(p.enforcement_level is None for p in build_policies())
    with pytest.raises(KeyError):
        build_policies(ADVISORY, {"nope": "advisory"})


def test_config_files_are_policy_config_for_known_rules():
    for env in ("dev", "staging", "prod"):
        config = json.loads((POLICIES_DIR / "config" / f"{env}.json").read_text())
        assert "all" in config
        levels_for(env)  # raises on unknown rule ids or levels


def test_pulumi_policy_yaml_names_python_and_the_project_venv():
    spec = yaml.safe_load((POLICIES_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python"
    venv = (POLICIES_DIR / spec["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == (POLICIES_DIR.parent / ".venv").resolve()
    assert spec["description"]


def test_main_only_builds_the_pack_from_the_registry():
    tree = ast.parse((POLICIES_DIR / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"]
    assert len(calls) == 1
    keywords = {k.arg for k in calls[0].keywords}
    assert {"name", "enforcement_level", "policies"} <= keywords
    assert "policies.pack" in {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_readme_lists_every_rule():
    readme = (POLICIES_DIR / "README.md").read_text()
    for rule in RULES:
        assert f"| `{rule.id}` |" in readme and rule.control in readme, rule.id
