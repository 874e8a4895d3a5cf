"""IAM identity policies grant neither every action nor sensitive actions on every resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import (
    InvalidPolicyDocument,
    Statement,
    action_covers,
    as_list,
    is_known,
    props_of,
    statements,
)

ROLE = "aws:iam/role:Role"
POLICY_TYPES = frozenset({
    ROLE,
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
})

ALL_ACTIONS = ("*", "*:*")
"""Never allowed, whatever the resource or condition (FSBP IAM.1)."""

SERVICE_WILDCARDS = ("iam:*", "kms:*", "s3:*", "sts:*", "ec2:*", "organizations:*", "secretsmanager:*")
"""Never allowed on Resource '*', conditions don't excuse them (FSBP IAM.21)."""

ESCALATION_ACTIONS = (
    "iam:PassRole", "sts:AssumeRole", "iam:AttachRolePolicy", "iam:PutRolePolicy",
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey", "iam:CreateLoginProfile",
)
"""Allowed on Resource '*' only with a Condition (e.g. iam:PassedToService, aws:ResourceTag)."""


def statement_findings(statement: Statement) -> list[str]:
    """What an Allow statement grants too broadly ([] when fine)."""
    if not statement.allows:
        return []
    findings = [f"action {a!r}" for a in statement.actions if a.strip() in ALL_ACTIONS]
    if not statement.any_resource:
        return findings
    if statement.not_actions:
        findings.append("Allow with NotAction")
    for sensitive in SERVICE_WILDCARDS:
        if any(action_covers(a, sensitive) for a in statement.actions if a.strip() not in ALL_ACTIONS):
            findings.append(f"{sensitive!r}")
    if not statement.condition:
        for sensitive in ESCALATION_ACTIONS:
            if any(action_covers(a, sensitive) for a in statement.actions
                   if a.strip() not in ALL_ACTIONS and not any(action_covers(a, w) for w in SERVICE_WILDCARDS)):
                findings.append(f"{sensitive!r} without a Condition")
    return findings


def _documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    """(where, document) for every policy document the resource carries."""
    props = props_of(args)
    if args.resource_type == ROLE:
        for item in as_list(props.get("inlinePolicies")):
            if isinstance(item, dict) and is_known(item.get("policy")):
                name = item.get("name") if is_known(item.get("name")) else "?"
                yield f"IAM role '{args.name}' inline policy '{name}'", item["policy"]
    elif is_known(props.get("policy")):
        kind = args.resource_type.split(":")[-1]
        yield f"IAM {kind} '{args.name}'", props["policy"]


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Report each Allow statement granting '*' actions, or sensitive actions on Resource '*'."""
    for where, document in _documents(args):
        try:
            parsed = statements(document)
        except InvalidPolicyDocument as error:
            report_violation(f"{where}: policy document is {error}")
            continue
        for index, statement in enumerate(parsed):
            findings = statement_findings(statement)
            if findings:
                report_violation(
                    f"{where}: {statement.label(index)} allows {', '.join(findings)} on "
                    f"{', '.join(statement.resources) or 'NotResource'}; allowed: named actions, "
                    f"never '*'/'*:*'; on Resource '*' no {'/'.join(SERVICE_WILDCARDS)} and no "
                    "NotAction, and privilege-escalation actions (iam:PassRole, sts:AssumeRole, ...) "
                    "only with a Condition")


RULE = Rule(
    id="iam-no-wildcard-actions",
    description="IAM policies allow no '*' actions and no sensitive actions on Resource '*'.",
    severity="critical",
    control="AWS FSBP IAM.1, IAM.21",
    kind="resource",
    validate=validate,
    resource_types=POLICY_TYPES,
    remediation="List the actions the workload needs and scope Resource to the ARNs it uses.",
)
