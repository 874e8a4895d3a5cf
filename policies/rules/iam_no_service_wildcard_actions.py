"""IAM identity policies never grant every action of a service (``s3:*``), whatever the resource."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import identity_statements

ALL_ACTIONS = ("*", "*:*")  # iam-no-wildcard-actions (IAM.1) reports those


def service_wildcards(actions: tuple[str, ...]) -> list[str]:
    """The actions that grant every action of a service: ``s3:*`` (not ``s3:Get*``, not ``*``)."""
    return [a for a in actions if a.strip() not in ALL_ACTIONS and a.strip().endswith(":*")]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Report each Allow statement with a ``<service>:*`` action (permissions boundaries are exempt)."""
    for resource, where, index, statement in identity_statements(args.resources, boundaries=False):
        wildcards = service_wildcards(statement.actions) if statement.allows else []
        if wildcards:
            report_violation(f"{where}: {statement.label(index)} allows {', '.join(map(repr, wildcards))}; "
                             "allowed: the named actions the workload needs (e.g. 's3:GetObject'), never "
                             "'<service>:*', whatever the resource or condition", resource.urn)


RULE = Rule(
    id="iam-no-service-wildcard-actions",
    description="IAM identity policies allow no '<service>:*' actions (permissions boundaries are exempt).",
    severity="high",
    control="AWS FSBP IAM.21",
    kind="stack",
    validate=validate,
    remediation="List the service's actions the workload calls instead of '<service>:*'.",
)
