"""Reports a CI reads: SARIF (GitHub code scanning), workflow annotations (GitHub Actions), JUnit XML.

A violation is located at the stack file of its stack; for a program (`--program`) at the line that
registered the resource, which Pulumi records. A stack that failed to plan is one error at its file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .policy_run import Violation
from .runner import StackPlan, relative

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
PLAN_FAILED = "plan-failed"
"""The rule id of a stack that could not be planned (invalid config, failing program, collision)."""
_SECURITY_SEVERITY = {"low": "3.0", "medium": "5.0", "high": "8.0", "critical": "9.5"}
_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}


def _location(plan: StackPlan, violation: Violation | None, root: Path | None) -> tuple[str, int | None]:
    """(file relative to the project, line or None) for a violation, or for the stack itself."""
    resource = next((r for r in plan.resources if violation and r.urn == violation.urn), None)
    if plan.kind == "program" and resource is not None and resource.source_file:
        return relative(resource.source_file, root), resource.source_line
    return relative(plan.source, root), None


def sarif(plans: list[StackPlan], root: Path | None, version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, the pack's rules, one result per violation or failed stack."""
    from policies.pack import RULES

    rules: list[dict[str, Any]] = [{
        "id": rule.id, "name": "".join(part.title() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "help": {"text": rule.remediation or rule.description},
        "properties": {"tags": ["security", "iac"], "security-severity": _SECURITY_SEVERITY[rule.severity],
                       "control": rule.control},
    } for rule in RULES]
    rules.append({"id": PLAN_FAILED, "name": "PlanFailed",
                  "shortDescription": {"text": "The stack could not be planned (config, program or collision)."},
                  "help": {"text": "Fix the error the message names; `mlp plan` exits 2."},
                  "properties": {"tags": ["iac"]}})
    index: dict[str, int] = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for plan in plans:
        if plan.error:
            results.append(_result(PLAN_FAILED, index, "error", f"{plan.stack}: {plan.error}",
                                   *_location(plan, None, root), plan.stack, None))
        for v in sorted(plan.violations, key=Violation.sort_key):
            what = f"{v.name} ({v.type})" if v.name else "the stack"
            results.append(_result(v.rule, index, _SARIF_LEVEL.get(v.level, "note"),
                                   f"{plan.stack}: {what}: {v.message}", *_location(plan, v, root),
                                   plan.stack, v.urn))
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "mlp plan", "version": version, "rules": rules}},
        "invocations": [{"executionSuccessful": all(not p.error for p in plans)}],
        "results": results,
    }]}


def _result(rule_id: str, index: dict[str, int], level: str, text: str, uri: str, line: int | None,
            stack: str, urn: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if line:
        physical["region"] = {"startLine": line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if urn:
        location["logicalLocations"] = [{"fullyQualifiedName": urn, "kind": "resource"}]
    return {"ruleId": rule_id, "ruleIndex": index[rule_id], "level": level, "message": {"text": text},
            "locations": [location], "properties": {"stack": stack}}


def github_annotations(plans: list[StackPlan], root: Path | None) -> list[str]:
    """Workflow commands (``::error file=...,line=...::``) that GitHub Actions shows on the files."""
    lines = []
    for plan in plans:
        if plan.error:
            uri, _ = _location(plan, None, root)
            lines.append(_command("error", uri, None, f"{plan.stack}: {PLAN_FAILED}", plan.error))
        for v in sorted(plan.violations, key=Violation.sort_key):
            uri, line = _location(plan, v, root)
            kind = "error" if v.level == "mandatory" else "warning"
            lines.append(_command(kind, uri, line, f"{plan.stack}: {v.rule}", f"{v.name or '(stack)'}: {v.message}"))
    return lines


def _command(kind: str, file: str, line: int | None, title: str, message: str) -> str:
    properties = [f"file={_escape_property(file)}"] + ([f"line={line}"] if line else [])
    properties.append(f"title={_escape_property(title)}")
    return f"::{kind} {','.join(properties)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def junit(plans: list[StackPlan], root: Path | None) -> str:
    """JUnit XML: a suite per stack, a case per policy rule (fails on mandatory violations) and one
    for planning itself (an error when the stack could not be planned)."""
    from policies.pack import RULES

    suites = ET.Element("testsuites", name="mlp plan")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for plan in plans:
        suite = ET.SubElement(suites, "testsuite", name=plan.stack, file=relative(plan.source, root))
        counts = {"tests": 1, "failures": 0, "errors": 0}
        case = ET.SubElement(suite, "testcase", classname=plan.stack, name="plan", time=f"{plan.seconds:.3f}")
        if plan.error:
            ET.SubElement(case, "error", message=plan.error.splitlines()[0], type=PLAN_FAILED).text = plan.error
            counts["errors"] += 1
        else:
            for rule in RULES:
                counts["tests"] += 1
                case = ET.SubElement(suite, "testcase", classname=plan.stack, name=rule.id)
                found = [v for v in sorted(plan.violations, key=Violation.sort_key) if v.rule == rule.id]
                mandatory = [v for v in found if v.level == "mandatory"]
                text = "\n".join(f"{v.level}: {v.name or '(stack)'}: {v.message}" for v in found)
                if mandatory:
                    ET.SubElement(case, "failure", message=f"{len(mandatory)} mandatory violation(s)",
                                  type="mandatory").text = text
                    counts["failures"] += 1
                elif found:
                    ET.SubElement(case, "system-out").text = text
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
