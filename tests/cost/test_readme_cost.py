"""The README's cost table is what `mlp cost` computes for the example stacks, with the sheets' date."""

from __future__ import annotations

from pathlib import Path

from platform_lib import cost

ROOT = Path(__file__).resolve().parents[2]


def table_row(stack_cost: cost.StackCost) -> str:
    top = ", ".join(f"{token.split(':')[-1]} {idle:,.2f}" for token, _, idle, _ in stack_cost.by_type()[:3])
    unpriced = ", ".join(sorted({e.type.split(":")[-1] for e in stack_cost.unpriced}))
    return (f"| `{stack_cost.stack}` | ${stack_cost.idle:,.2f} | ${stack_cost.at_max:,.2f} | {top} | "
            f"{len(stack_cost.unpriced)}: {unpriced} |")


def test_readme_cost_table_is_generated_from_mlp_cost(plans):
    readme = (ROOT / "README.md").read_text()
    rows = [table_row(cost.estimate(name, view.resources)) for name, view in plans.items()]
    for row in rows:
        assert row in readme, row
    dates = sorted({sheet.recorded for sheet in cost.default_sheets().values()})
    assert f"prices of eu-west-1 and us-east-1 recorded {', '.join(dates)}" in readme
