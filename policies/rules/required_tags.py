"""Taggable resources carry the ownership and cost tags."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import ENVIRONMENTS, REQUIRED_TAGS, effective_tags, is_taggable, props_of

REQUIRED = (f"tags {', '.join(REQUIRED_TAGS)} on every taggable resource (env one of "
            f"{'/'.join(ENVIRONMENTS)}), from the aws provider's defaultTags or the resource's tags")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Effective tags (provider defaultTags + own tags) include team, env, cost-center."""
    if not is_taggable(args.resource_type, props_of(args)):
        return
    tags = effective_tags(args)
    missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
    if missing and tags.complete:
        report_violation(f"{args.resource_type} '{args.name}' is missing tag(s) {', '.join(missing)}; "
                         f"required: {REQUIRED}", None)
    env = tags.get("env")
    if env is not None and env not in ENVIRONMENTS:
        report_violation(f"{args.resource_type} '{args.name}' has env={env!r}; required: {REQUIRED}", None)


RULE = Rule(
    id="required-tags",
    description="Taggable AWS resources carry the team, env and cost-center tags.",
    severity="low",
    control="AWS Well-Architected COST03-BP02",
    kind="resource",
    validate=validate,
    remediation="Set team, env and cost-center in the aws.Provider default_tags (infra naming/tag helper).",
)
