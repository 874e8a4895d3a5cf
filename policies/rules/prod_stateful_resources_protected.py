"""Stateful resources in prod can't be deleted by a `pulumi up` or `destroy`."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.resource_types import stateful_types
from policies.rule import Rule
from policies.support import resource_env

PROD = "prod"
STATEFUL_TYPES = stateful_types()
"""Resources whose deletion loses data, keys or history (from ``policies/resource_types.py``)."""


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Stateful resources whose effective env tag is prod have opts.protect=True."""
    if resource_env(args) != PROD:
        return
    if not getattr(args.opts, "protect", False):
        report_violation(f"{args.resource_type} '{args.name}' holds state in prod but is not protected; "
                         "required: ResourceOptions(protect=True) on stateful resources tagged env=prod", None)


RULE = Rule(
    id="prod-stateful-resources-protected",
    description="Stateful resources in prod are protected against deletion (protect=True).",
    severity="high",
    control="AWS FSBP RDS.8, DynamoDB.6 (deletion protection)",
    kind="resource",
    validate=validate,
    resource_types=STATEFUL_TYPES,
    remediation="Pass ResourceOptions(protect=True) (the components do this when env is prod).",
)
