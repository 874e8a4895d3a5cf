"""IAM identity policies grant neither every action nor sensitive actions on every resource."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import (
    IDENTITY_POLICY_TYPES,
    InvalidPolicyDocument,
    Statement,
    action_covers,
    identity_documents,
    statements,
)

ALL_ACTIONS = ("*", "*:*")
"""Never allowed, whatever the resource or condition (FSBP IAM.1)."""

SERVICE_WILDCARDS = ("iam:*", "kms:*", "s3:*", "sts:*", "ec2:*", "organizations:*", "secretsmanager:*")
"""Never allowed on Resource '*', conditions don't excuse them (anywhere else: iam-no-service-wildcard-actions)."""

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


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Report each Allow statement granting '*' actions, or sensitive actions on Resource '*'."""
    for where, document in identity_documents(args):
        try:
            parsed = statements(document)
        except InvalidPolicyDocument as error:
            report_violation(f"{where}: policy document is {error}", None)
            continue
        for index, statement in enumerate(parsed):
            findings = statement_findings(statement)
            if findings:
                report_violation(
                    f"{where}: {statement.label(index)} allows {', '.join(findings)} on "
                    f"{', '.join(statement.resources) or 'NotResource'}; allowed: named actions, "
                    f"never '*'/'*:*'; on Resource '*' no {'/'.join(SERVICE_WILDCARDS)} and no "
                    "NotAction, and privilege-escalation actions (iam:PassRole, sts:AssumeRole, ...) "
                    "only with a Condition", None)


RULE = Rule(
    id="iam-no-wildcard-actions",
    description="IAM policies allow no '*' actions and no sensitive actions on Resource '*'.",
    severity="critical",
    control="AWS FSBP IAM.1 (and NIST 800-53 AC-6 for privilege escalation)",
    kind="resource",
    validate=validate,
    resource_types=IDENTITY_POLICY_TYPES,
    remediation="List the actions the workload needs and scope Resource to the ARNs it uses.",
)
