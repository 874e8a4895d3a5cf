"""A team's monthly AWS Budget: the spend of its cost center, with actual and forecast alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.naming import Names

ALERT_PERCENTS = (80, 100)        # of the budget, for actual and for forecast spend
COST_CENTER_TAG = "cost-center"   # a cost allocation tag: activate it once in the billing console


@dataclass(frozen=True)
class BudgetArgs:
    names: Names
    cost_center: str
    monthly_usd: int
    emails: Sequence[str]


def notifications(emails: Sequence[str]) -> list[aws.budgets.BudgetNotificationArgs]:
    """Actual and forecast spend at each alert percentage, to every email."""
    return [aws.budgets.BudgetNotificationArgs(
        comparison_operator="GREATER_THAN", threshold=percent, threshold_type="PERCENTAGE",
        notification_type=kind, subscriber_email_addresses=list(emails))
        for kind in ("ACTUAL", "FORECASTED") for percent in ALERT_PERCENTS]


class TeamBudget(pulumi.ComponentResource):
    """`<team>-<env>-budget`: monthly cost of everything tagged `cost-center=<the stack's>`."""

    def __init__(self, name: str, args: BudgetArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:cost:TeamBudget", name, None, opts)
        budget_name = args.names.resource("budget")
        self.budget = aws.budgets.Budget(
            budget_name, name=budget_name, account_id=args.names.account_id, budget_type="COST",
            limit_amount=f"{args.monthly_usd:.2f}", limit_unit="USD", time_unit="MONTHLY",
            cost_filters=[{"name": "TagKeyValue", "values": [f"user:{COST_CENTER_TAG}${args.cost_center}"]}],
            notifications=notifications(args.emails),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.register_outputs({"name": self.budget.name})
