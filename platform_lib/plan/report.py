"""Human output of a plan (a preview-like resource tree per stack, a policy report, a summary) and
the plan as JSON. Every value from a user or a program is escaped: it is printed, never interpreted."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from .runner import StackPlan

FORMAT_VERSION = 2
_LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow"}
_RESULT_TEXT = {0: "ok", 1: "violations", 2: "invalid"}
_RESULT_STYLE = {0: "green", 1: "red", 2: "red"}


def resource_tree(plan: StackPlan) -> Tree:
    """Resources grouped under their components, as `pulumi preview` lists them."""
    root = Tree(f"[bold]{escape(plan.stack)}[/] ({escape(plan.kind or '?')}, {escape(plan.environment or '?')})"
                f" — {len(plan.resources)} resources")
    children: dict[str | None, list] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)
    flagged = {v.urn for v in plan.violations}

    def add(node: Tree, parent: str | None) -> None:
        for resource in sorted(children.get(parent, []), key=lambda r: (r.type, r.name)):
            marks = " [dim]protect[/]" if resource.protect else ""
            marks += " [red]✗[/]" if resource.urn in flagged else ""
            verb = "read" if resource.read else "+"
            add(node.add(f"[green]{verb}[/] {escape(resource.type)} [bold]{escape(resource.name)}[/]{marks}"),
                resource.urn)

    add(root, None)
    return root


def print_violations(plan: StackPlan, console: Console) -> None:
    """One line per violation, mandatory first: level, rule, the resource's logical name, why."""
    console.print(f"[bold]policy report: {escape(plan.stack)}[/] ({len(plan.mandatory)} mandatory, "
                  f"{len(plan.violations) - len(plan.mandatory)} advisory)")
    for v in sorted(plan.violations, key=lambda v: (v.level != "mandatory", v.rule, v.name or "")):
        style = _LEVEL_STYLE.get(v.level, "")
        console.print(f"  [{style}]✗ {v.level}[/] [bold]{escape(v.rule)}[/] {escape(v.name or '(stack)')}: "
                      f"{escape(v.message)} [dim]({escape(v.control)})[/]", highlight=False, soft_wrap=True)


def print_plans(plans: list[StackPlan], console: Console, tree: bool = True) -> None:
    for plan in plans:
        if plan.error:
            console.print(f"[bold red]✗ {escape(plan.stack)}[/] ({escape(plan.source)}):\n{escape(plan.error)}",
                          highlight=False, soft_wrap=True)
            continue
        if tree:
            console.print(resource_tree(plan))
        for warning in plan.warnings:
            console.print(f"[yellow]warning[/] {escape(plan.stack)}: {escape(warning)}", highlight=False)
        if plan.violations:
            print_violations(plan, console)
    console.print(summary(plans))


def summary(plans: list[StackPlan]) -> Table:
    """One row per stack (res: resources, mand/adv: mandatory/advisory violations, $/mo: the monthly
    cost estimate idle–at max, * when some resources are unpriced); fits 80 columns with stack names of
    up to 30 characters kept whole (the cost column appears once a stack has resources)."""
    header = ("stack", "kind", "env", "res", "mand", "adv", "secs", "result")
    rows = [(plan.stack, plan.kind or "?", plan.environment or "?", str(len(plan.resources)),
             str(len(plan.mandatory)), str(len(plan.violations) - len(plan.mandatory)), f"{plan.seconds:.2f}",
             int(plan.exit_code)) for plan in plans]
    costs = _costs(plans)
    table = Table(title="plan summary", box=None, pad_edge=False, header_style="bold",
                  caption=_cost_caption() if costs else None)
    for index, name in enumerate(header):
        width = max([len(name), *(len(_RESULT_TEXT[r[7]] if index == 7 else str(r[index])) for r in rows)])
        table.add_column(name, no_wrap=True, min_width=width, justify="right" if 3 <= index <= 6 else "left")
    if costs:
        table.add_column("$/mo", no_wrap=True, justify="right")
    for plan, (*cells, code) in zip(plans, rows, strict=True):
        extra = [escape(costs.get(plan.stack, "-"))] if costs else []
        table.add_row(*(escape(str(c)) for c in cells), f"[{_RESULT_STYLE[code]}]{_RESULT_TEXT[code]}[/]", *extra)
    return table


def _costs(plans: list[StackPlan]) -> dict[str, str]:
    """``{stack: "116" or "116–300", "*" when some resources are unpriced}`` of the planned stacks."""
    from platform_lib import cost

    cells = {}
    for plan in plans:
        if plan.error or not plan.resources:
            continue
        estimate = cost.estimate(plan.stack, plan.resources)
        idle, top = round(estimate.idle), round(estimate.at_max)
        cells[plan.stack] = (f"{idle:,}" if idle == top else f"{idle:,}–{top:,}") + ("*" if estimate.unpriced else "")
    return cells


def _cost_caption() -> str:
    from platform_lib import cost

    dates = sorted({sheet.recorded for sheet in cost.default_sheets().values()})
    return f"$/mo: idle–at max, USD, prices of {', '.join(dates)}; * some resources unpriced (mlp cost --stack S)"


def plan_document(plans: list[StackPlan], root: Path | None = None) -> dict[str, Any]:
    """The whole plan, one entry per stack in deployment order: the same bytes for the same code."""
    return {"formatVersion": FORMAT_VERSION, "exitCode": int(max((p.exit_code for p in plans), default=0)),
            "error": None, "stacks": {plan.stack: plan.as_json(root) for plan in plans}}


def failure_document(error: str) -> dict[str, Any]:
    """What `--json` holds when `mlp plan` stopped before planning: it failed, and why."""
    return {"formatVersion": FORMAT_VERSION, "exitCode": 2, "error": error, "stacks": {}}


def write_json(plans: list[StackPlan], path: Path, root: Path | None = None) -> None:
    write_atomically(path, dumps(plan_document(plans, root)))


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def check_destination(path: Path, option: str) -> None:
    """Refuse, before any planning, an output path that cannot be written: raise ValueError saying why."""
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=True):
            pass
    except OSError as exc:
        raise ValueError(f"{option} {path} cannot be written: {exc.strerror or exc}") from exc


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         delete=False)
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
