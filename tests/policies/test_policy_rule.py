"""The Rule dataclass: validation of metadata, type filtering, conversion to pulumi-policy."""

from __future__ import annotations

import dataclasses

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity, StackValidationPolicy

from policies.rule import Rule


def _noop(args, report_violation):
    report_violation("seen")


def make(**overrides):
    fields = dict(id="demo-rule", description="A demo.", severity="low", control="AWS FSBP S3.8",
                  kind="resource", validate=_noop)
    return Rule(**{**fields, **overrides})


@pytest.mark.parametrize("overrides", [
    {"id": "Demo_Rule"}, {"id": "all"}, {"description": "two\nlines"}, {"severity": "urgent"},
    {"kind": "graph"}, {"control": " "}, {"kind": "stack", "resource_types": {"aws:s3/bucket:Bucket"}},
])
def test_invalid_metadata_is_rejected(overrides):
    with pytest.raises(ValueError):
        make(**overrides)


def test_rule_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(make(), "id", "other")  # noqa: B010 (a plain assignment is a type error)


def test_check_filters_by_resource_type(kit):
    rule = make(resource_types={"aws:kms/key:Key"})
    assert kit.run(rule, kit.args("aws:kms/key:Key", {})) == [("seen", None)]
    assert kit.run(rule, kit.args("aws:s3/bucket:Bucket", {})) == []
    assert make().applies_to("anything")


def test_resource_rule_becomes_resource_policy(kit):
    policy = make(resource_types={"aws:kms/key:Key"}, remediation="Fix it.").to_policy(EnforcementLevel.ADVISORY)
    assert isinstance(policy, ResourceValidationPolicy)
    assert (policy.name, policy.enforcement_level, policy.severity) == (
        "demo-rule", EnforcementLevel.ADVISORY, Severity.LOW)
    assert policy.framework is not None
    assert (policy.framework.name, policy.framework.reference) == ("AWS FSBP", "S3.8")
    assert policy.remediation_steps == "Fix it."
    seen: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        seen.append(message)

    policy.validate(kit.args("aws:s3/bucket:Bucket", {}), report)
    assert seen == []  # the policy applies the type filter too


def test_stack_rule_becomes_stack_policy_with_config_schema():
    rule = make(kind="stack", config_schema={"n": {"type": "integer", "default": 1}})
    policy = rule.to_policy()
    assert isinstance(policy, StackValidationPolicy) and policy.enforcement_level is None
    assert policy.config_schema is not None
    assert policy.config_schema.properties == {"n": {"type": "integer", "default": 1}}


def test_unknown_framework_prefix_keeps_the_whole_control():
    assert make(control="Internal PB-1").framework().name == "Internal PB-1"
