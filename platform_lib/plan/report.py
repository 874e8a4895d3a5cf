"""Human output of a plan: a preview-like resource tree per stack and a policy report."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from .runner import StackPlan

_LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow"}


def resource_tree(plan: StackPlan) -> Tree:
    """Resources grouped under their components, as `pulumi preview` lists them."""
    root = Tree(f"[bold]{plan.stack}[/] ({plan.kind}, {plan.environment}) — {len(plan.resources)} resources")
    children: dict[str | None, list] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)
    flagged = {v.urn for v in plan.violations}

    def add(node: Tree, parent: str | None) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            marks = " [dim]protect[/]" if resource.protect else ""
            marks += " [red]✗[/]" if resource.urn in flagged else ""
            verb = "read" if resource.read else "+"
            add(node.add(f"[green]{verb}[/] {resource.type} [bold]{resource.name}[/]{marks}"), resource.urn)

    add(root, None)
    return root


def print_violations(plan: StackPlan, console: Console) -> None:
    """One line per violation, mandatory first: level, rule, the resource's logical name, why."""
    console.print(f"[bold]policy report: {plan.stack}[/] ({len(plan.mandatory)} mandatory, "
                  f"{len(plan.violations) - len(plan.mandatory)} advisory)")
    for v in sorted(plan.violations, key=lambda v: (v.level != "mandatory", v.rule, v.name or "")):
        style = _LEVEL_STYLE.get(v.level, "")
        console.print(f"  [{style}]✗ {v.level}[/] [bold]{v.rule}[/] {v.name or '(stack)'}: {v.message} "
                      f"[dim]({v.control})[/]", highlight=False, soft_wrap=True)


def print_plans(plans: list[StackPlan], console: Console, tree: bool = True) -> None:
    for plan in plans:
        if plan.error:
            console.print(f"[bold red]✗ {plan.stack}[/] ({plan.source}):\n{plan.error}")
            continue
        if tree:
            console.print(resource_tree(plan))
        for warning in plan.warnings:
            console.print(f"[yellow]warning[/] {plan.stack}: {warning}")
        if plan.violations:
            print_violations(plan, console)
    console.print(summary(plans))


def summary(plans: list[StackPlan]) -> Table:
    table = Table(title="plan summary")
    for column in ("stack", "kind", "env", "resources", "mandatory", "advisory", "seconds", "result"):
        table.add_column(column)
    for plan in plans:
        advisory = len(plan.violations) - len(plan.mandatory)
        result = {0: "[green]ok[/]", 1: "[red]violations[/]", 2: "[red]invalid[/]"}[plan.exit_code]
        table.add_row(plan.stack, plan.kind or "?", plan.environment or "?", str(len(plan.resources)),
                      str(len(plan.mandatory)), str(advisory), f"{plan.seconds:.2f}", result)
    return table


def write_json(plans: list[StackPlan], path: Path) -> None:
    """The whole plan, one entry per stack: resources, violations and outputs."""
    document = {"formatVersion": 1, "stacks": {plan.stack: plan.as_json() for plan in plans}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str))
