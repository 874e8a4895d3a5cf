"""Team IAM roles are capped by a permissions boundary."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import (
    PLATFORM_TEAM,
    ROLE_KIND_TAG,
    EffectiveTags,
    effective_tags,
    is_known,
    is_unknown,
    props_of,
)

ROLE_TYPES = frozenset({"aws:iam/role:Role"})
TEAM_ROLE_KIND = "team"


def is_team_role(tags: EffectiveTags) -> bool:
    """A team role: tag ``ml-platform/role-kind=team``, or a ``team`` tag other than ``platform``.

    The role-kind tag can only add roles (a platform-stack role that teams assume); it can't
    exempt a role that a team stack creates.
    """
    if tags.get(ROLE_KIND_TAG) == TEAM_ROLE_KIND:
        return True
    team = tags.get("team")
    return team is not None and team != PLATFORM_TEAM


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Team roles set permissionsBoundary (any known, non-empty policy ARN)."""
    tags = effective_tags(args)
    if not is_team_role(tags):
        return
    boundary = props_of(args).get("permissionsBoundary")
    if is_unknown(boundary) or (is_known(boundary) and str(boundary).strip()):
        return
    report_violation(
        f"IAM role '{args.name}' is a team role (team '{tags.get('team')}') without a "
        f"permissionsBoundary; required: permissionsBoundary set to the platform's boundary policy ARN "
        f"on every role tagged team!={PLATFORM_TEAM} or {ROLE_KIND_TAG}={TEAM_ROLE_KIND}", None)


RULE = Rule(
    id="iam-team-role-permissions-boundary",
    description="IAM roles owned by teams have a permissions boundary.",
    severity="high",
    control="AWS Well-Architected SEC03-BP05",
    kind="resource",
    validate=validate,
    resource_types=ROLE_TYPES,
    remediation="Pass permissions_boundary=<platform boundary policy ARN> to the team's iam.Role.",
)
