"""Run the project's CrossGuard pack on captured resources, as `pulumi preview --policy-pack` would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from .capture import CapturedResource


@dataclass(frozen=True)
class Violation:
    rule: str
    level: str          # advisory | mandatory
    severity: str
    control: str
    urn: str | None
    name: str | None    # the resource's logical name
    type: str | None
    message: str

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.rule, self.urn or "", self.level, self.message)

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "severity": self.severity, "control": self.control,
                "resource": self.name, "type": self.type, "urn": self.urn, "message": self.message}


def evaluate(resources: list[CapturedResource], env: str) -> list[Violation]:
    """Every rule of the pack on every resource (resource rules) and on the whole graph (stack rules),
    at the enforcement levels of ``env``. Disabled rules are skipped."""
    from policies.pack import RULES, levels_for, rule_config_for

    levels = levels_for(env)
    analysed = [r for r in resources if not r.read]
    by_urn = {r.urn: r for r in resources}
    providers = {
        r.urn: PolicyProviderResource(r.type, r.inputs, r.urn, r.name)
        for r in resources if r.type.startswith("pulumi:providers:")
    }
    policy_resources = _policy_resources(analysed, providers)
    violations: list[Violation] = []
    for rule in RULES:
        level = levels[rule.id]
        if level == EnforcementLevel.DISABLED:
            continue
        config = rule_config_for(env, rule.id)

        def report(message: str, urn: str | None = None, *, subject: CapturedResource | None = None,
                   rule=rule, level=level) -> None:
            target = subject or by_urn.get(urn or "")
            violations.append(Violation(
                rule=rule.id, level=level.value, severity=rule.severity, control=rule.control,
                urn=target.urn if target else urn, name=target.name if target else None,
                type=target.type if target else None, message=message,
            ))

        if rule.kind == "stack":
            rule.check(StackValidationArgs(list(policy_resources.values()), config=config), report)
            continue
        for resource in analysed:
            if not rule.applies_to(resource.type):
                continue
            policy_resource = policy_resources[resource.urn]
            args = ResourceValidationArgs(
                resource.type, resource.inputs, resource.urn, resource.name, policy_resource.opts,
                providers.get(resource.provider or ""), config=config,
            )
            rule.check(args, _reporting_on(resource, report))
    return violations


def _reporting_on(subject: CapturedResource, report: Callable[..., None]) -> Callable[..., None]:
    """A resource rule's ``report_violation``: violations name the resource checked unless told another."""

    def report_violation(message: str, urn: str | None = None) -> None:
        report(message, urn, subject=subject)

    return report_violation


def _policy_resources(resources: list[CapturedResource],
                      providers: dict[str, PolicyProviderResource]) -> dict[str, PolicyResource]:
    """PolicyResources linked to their parents and dependencies, like the engine's AnalyzeStack."""
    made = {
        r.urn: PolicyResource(
            r.type, r.inputs, r.urn, r.name,
            PolicyResourceOptions(
                protect=r.protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[], parent=r.parent,
            ),
            providers.get(r.provider or ""), None, [], {},
        )
        for r in resources
    }
    for r in resources:
        resource = made[r.urn]
        resource.parent = made.get(r.parent or "")
        resource.dependencies = [made[u] for u in r.dependencies if u in made]
        resource.property_dependencies = {
            key: [made[u] for u in urns if u in made] for key, urns in r.property_dependencies.items()
        }
    return made
