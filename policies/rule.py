"""`Rule`: one policy's metadata plus its validator, convertible to a pulumi-policy `Policy`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

RuleKind = Literal["resource", "stack"]
RuleSeverity = Literal["low", "medium", "high", "critical"]

_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FRAMEWORKS = ("AWS FSBP", "CIS AWS", "AWS Well-Architected", "NIST 800-53")


@dataclass(frozen=True)
class Rule:
    """A policy rule: what it checks, how bad a violation is, which control it implements.

    ``validate`` is a plain pulumi-policy validator: ``(ResourceValidationArgs, report_violation)``
    for ``kind="resource"``, ``(StackValidationArgs, report_violation)`` for ``kind="stack"``.
    Stack validators pass the offending resource's URN to ``report_violation``.
    ``resource_types`` (resource rules only) limits the types the validator is called for: use
    :meth:`check`, not ``validate``, to get that filtering.
    """

    id: str
    description: str
    severity: RuleSeverity
    control: str
    kind: RuleKind
    validate: Callable[[Any, ReportViolation], None]
    resource_types: frozenset[str] | None = None
    remediation: str | None = None
    config_schema: Mapping[str, Mapping[str, Any]] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id) or self.id == "all":
            raise ValueError(f"rule id {self.id!r} must be kebab-case (and not 'all')")
        if not self.description or "\n" in self.description:
            raise ValueError(f"rule {self.id}: description must be one non-empty line")
        if self.severity not in ("low", "medium", "high", "critical"):
            raise ValueError(f"rule {self.id}: severity {self.severity!r} is not low/medium/high/critical")
        if self.kind not in ("resource", "stack"):
            raise ValueError(f"rule {self.id}: kind {self.kind!r} is not 'resource' or 'stack'")
        if not self.control.strip():
            raise ValueError(f"rule {self.id}: control mapping is required")
        if not callable(self.validate):
            raise ValueError(f"rule {self.id}: validate must be callable")
        if self.resource_types is not None:
            if self.kind != "resource":
                raise ValueError(f"rule {self.id}: resource_types only applies to resource rules")
            object.__setattr__(self, "resource_types", frozenset(self.resource_types))

    def applies_to(self, resource_type: str) -> bool:
        """Whether the resource rule looks at resources of ``resource_type``."""
        return self.kind == "resource" and (
            self.resource_types is None or resource_type in self.resource_types)

    def check(self, args: Any, report_violation: ReportViolation) -> None:
        """Run the validator, skipping resources outside ``resource_types`` (resource rules)."""
        if self.kind == "resource" and not self.applies_to(args.resource_type):
            return
        self.validate(args, report_violation)

    def framework(self) -> PolicyComplianceFramework:
        """The control as a pulumi-policy compliance framework (name + reference)."""
        for name in _FRAMEWORKS:
            if self.control.startswith(name + " "):
                return PolicyComplianceFramework(name=name, reference=self.control[len(name) + 1:])
        return PolicyComplianceFramework(name=self.control)

    def to_policy(self, enforcement_level: EnforcementLevel | None = None) -> Policy:
        """The pulumi-policy policy for this rule; ``None`` defers to the pack's level and config."""
        common: dict[str, Any] = dict(
            name=self.id,
            description=self.description,
            enforcement_level=enforcement_level,
            severity=Severity(self.severity),
            framework=self.framework(),
            remediation_steps=self.remediation,
            config_schema=(PolicyConfigSchema(properties={k: dict(v) for k, v in self.config_schema.items()})
                           if self.config_schema else None),
        )
        if self.kind == "resource":
            return ResourceValidationPolicy(validate=self.check, **common)
        return StackValidationPolicy(validate=self.validate, **common)

