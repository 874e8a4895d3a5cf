"""Every team stack has a monthly budget over its cost center, alerting its owners."""

import pytest

BUDGET = "aws:budgets/budget:Budget"


@pytest.mark.parametrize("stack, account, cost_center, amount, owners", [
    ("fraud-dev", "111111111111", "risk-analytics", "1000.00", ["fraud-ml@example.com"]),
    ("vision-prod", "222222222222", "computer-vision", "10000.00",
     ["vision-ml@example.com", "vision-oncall@example.com"]),
])
def test_each_team_stack_has_a_budget_on_its_cost_center(plans, stack, account, cost_center, amount, owners):
    view = plans[stack]
    (budget,) = view.of_type(BUDGET)
    inputs = budget.inputs
    assert (inputs["name"], inputs["accountId"], inputs["budgetType"], inputs["timeUnit"], inputs["limitAmount"],
            inputs["limitUnit"]) == (f"{stack}-budget", account, "COST", "MONTHLY", amount, "USD")
    assert inputs["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:cost-center${cost_center}"]}]
    assert sorted((n["notificationType"], n["threshold"]) for n in inputs["notifications"]) == [
        ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 80), ("FORECASTED", 100)]
    for notification in inputs["notifications"]:
        assert notification["subscriberEmailAddresses"] == owners
        assert (notification["comparisonOperator"], notification["thresholdType"]) == ("GREATER_THAN", "PERCENTAGE")
    assert view.plan.outputs["budget"] == f"{stack}-budget"


def test_platform_stacks_have_no_team_budget(plans):
    assert plans["platform-dev"].of_type(BUDGET) == []
