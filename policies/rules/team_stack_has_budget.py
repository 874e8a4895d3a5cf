"""Every team stack has an AWS Budget over its cost center."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import PLATFORM_TEAM, UNKNOWN, as_list, is_unknown, of_types, props_of, provider_default_tags

BUDGET = "aws:budgets/budget:Budget"
STACK_TAG = "ml-platform/stack"   # the blueprint's providers tag every resource with its stack


def _stack_tags(resources: list[Any]) -> dict[str, str]:
    """The team and cost-center of the stack, from its aws providers' default tags."""
    for resource in resources:
        if resource.resource_type == "pulumi:providers:aws":
            tags, _ = provider_default_tags(resource)
            if tags.get("team"):
                return tags
    return {}


def _filters_cost_center(budget: Any, cost_center: str) -> Any:
    props = props_of(budget)
    filters = props.get("costFilters")
    if is_unknown(filters) or is_unknown(props.get("filterExpression")):
        return UNKNOWN
    wanted = f"user:cost-center${cost_center}"
    if any(isinstance(f, dict) and f.get("name") == "TagKeyValue" and wanted in as_list(f.get("values"))
           for f in as_list(filters)):
        return True
    expression = props.get("filterExpression")
    tags = expression.get("tags") if isinstance(expression, dict) else None
    return isinstance(tags, dict) and tags.get("key") == "cost-center" and cost_center in as_list(tags.get("values"))


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    tags = _stack_tags(args.resources)
    team, cost_center = tags.get("team"), tags.get("cost-center")
    if not team or team == PLATFORM_TEAM or not cost_center or not tags.get(STACK_TAG):
        return   # not a team stack of the blueprint (an addition planned alone), or its tags are not known
    budgets = of_types(args.resources, [BUDGET])
    verdicts = [_filters_cost_center(b, cost_center) for b in budgets]
    if any(v is True or v is UNKNOWN for v in verdicts):
        return
    what = "no budget on its cost center" if budgets else "no AWS Budget"
    report_violation(f"team stack of '{team}' has {what}; required: an aws.budgets.Budget filtered by the tag "
                     f"cost-center={cost_center} (costFilters TagKeyValue 'user:cost-center${cost_center}')", None)


RULE = Rule(
    id="team-stack-has-budget",
    description="Every team stack has an AWS Budget filtered by its cost-center tag.",
    severity="medium",
    control="AWS Well-Architected COST02-BP05",
    kind="stack",
    validate=validate,
    remediation="Compose infra.components.budget.TeamBudget in the team stack.",
)
