"""`mlp cost`: what planned stacks cost per month, idle and at their configured maximum, from the dated
price sheets in prices/ (see platform_lib/cost.py for what is and is not counted)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from .common import Refused, console, fail, project_root
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from platform_lib.cost import StackCost


def register(app: typer.Typer) -> None:
    app.command()(cost)


def cost(
    stack: list[str] = typer.Option(
        [], "--stack", "-s", metavar="NAME", help="Stack to cost (repeatable); a team's platform is planned too."),
    all_stacks: bool = typer.Option(False, "--all", help="Every stack in the stacks directory."),
    stacks_dir: Path | None = typer.Option(
        None, "--stacks-dir", metavar="DIR", help="Where Pulumi.<stack>.yaml files live (default: ./stacks)."),
    json_file: Path | None = typer.Option(None, "--json", metavar="FILE", help="Write the figures as JSON."),
    details: bool = typer.Option(False, "--details", help="One line per resource instead of per type."),
) -> None:
    """Estimate the monthly cost of stacks (planned offline): idle and at the configured maximum, with
    usage-priced charges and unpriced resources listed, never counted as zero.

    Exit 0 with the estimate, 2 when a stack cannot be planned or a price sheet is invalid.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from platform_lib import cost as costing
    from platform_lib.plan import report

    from .plan import _plan

    try:
        if bool(stack) == all_stacks:
            raise Refused("choose --stack NAME (repeatable) or --all")
        if json_file is not None:
            report.check_destination(json_file, "--json")
        sheets = costing.default_sheets()
        plans = _plan(stack, all_stacks, None, "prod", None, stacks_dir or project_root() / "stacks",
                      os.cpu_count() or 1, 600.0)
    except (Refused, ValueError) as exc:
        fail(str(exc))
    asked = [p for p in plans if all_stacks or p.stack in stack]
    failed = [p for p in asked if p.error]
    for plan in failed:
        console.print(f"[bold red]✗ {escape(plan.stack)}[/]: {escape(plan.error or '')}", soft_wrap=True)
    costs = [costing.estimate(p.stack, p.resources, sheets) for p in asked if not p.error]
    for stack_cost in costs:
        console.print(stack_table(stack_cost, details))
    if json_file is not None:
        report.write_atomically(json_file, report.dumps({"currency": "USD", "stacks": {
            c.stack: c.as_json() for c in costs}, "failed": {p.stack: p.error for p in failed}}))
        console.print(f"cost written to {json_file}", markup=False, highlight=False)
    raise typer.Exit(int(ExitCode.INVALID if failed else ExitCode.OK))


def stack_table(stack_cost: StackCost, details: bool = False) -> Table:
    """Priced resources (by type, or one per line), then the unpriced ones, then the totals."""
    from platform_lib.cost import ASSUMPTIONS

    dates = ", ".join(f"{region} {sheet.recorded}" for region, sheet in sorted(stack_cost.sheets.items()))
    table = Table(title=f"monthly cost of {escape(stack_cost.stack)} (USD; prices recorded {dates or 'none'})",
                  caption="; ".join(ASSUMPTIONS), caption_justify="left")
    table.add_column("resource" if details else "type")
    table.add_column("count" if not details else "region", justify="right")
    table.add_column("idle", justify="right")
    table.add_column("at max", justify="right")
    table.add_column("basis / usage" if details else "")
    if details:
        for e in sorted(stack_cost.priced, key=lambda e: (-(e.at_max or 0), e.type, e.name)):
            table.add_row(escape(f"{e.type} {e.name}"), e.region, f"{e.idle:,.2f}", f"{e.at_max:,.2f}",
                          escape("; ".join([e.basis, *e.usage])))
    else:
        usage: dict[str, set[str]] = {}
        for e in stack_cost.priced:
            usage.setdefault(e.type, set()).update(e.usage)
        for token, count, idle, at_max in stack_cost.by_type():
            table.add_row(escape(token), str(count), f"{idle:,.2f}", f"{at_max:,.2f}",
                          escape("plus " + "; ".join(sorted(usage[token]))) if usage[token] else "")
    for e in sorted(stack_cost.unpriced, key=lambda e: (e.type, e.name)):
        table.add_row(escape(f"{e.type} {e.name}"), e.region, "unpriced", "unpriced", escape(e.unpriced or ""),
                      style="yellow")
    table.add_row("[bold]total[/]", "", f"[bold]{stack_cost.idle:,.2f}[/]", f"[bold]{stack_cost.at_max:,.2f}[/]",
                  f"{len(stack_cost.unpriced)} unpriced" if stack_cost.unpriced else "", end_section=True)
    return table
