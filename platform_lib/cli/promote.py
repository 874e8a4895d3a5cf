"""`mlp promote infra|model` and `mlp rollback`: move a team's config or model to its next environment."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import console, err_console, fail, project_root
from .exit_codes import ExitCode

promote_app = typer.Typer(no_args_is_help=True,
                          help="Promote infrastructure config or a model to the next environment.")


def register(app: typer.Typer) -> None:
    app.add_typer(promote_app, name="promote")


@promote_app.command("infra")
def infra(
    source: str = typer.Option(..., "--from", metavar="STACK", help="The stack to promote from, e.g. fraud-staging."),
    target: str = typer.Option(..., "--to", metavar="STACK", help="The same team's stack one environment up."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff of the target stack file only."),
    stacks_dir: Path | None = typer.Option(
        None, "--stacks-dir", metavar="DIR", help="Where Pulumi.<stack>.yaml files live (default: ./stacks)."),
    timeout: float = typer.Option(600.0, "--timeout", min=1, metavar="SECONDS",
                                  help="Longest the target's plan may run."),
) -> None:
    """Carry the promotable config of --from into --to's stack file, after planning --to offline.

    Keys meant to differ per environment (marked in the schema, or with environment defaults) stay.
    Exit 0 when written (or nothing to do), 1 when the target's plan has mandatory violations (nothing
    written), 2 on bad input (nothing written).
    """
    from platform_lib.promotion import infra as promotion

    directory = stacks_dir or project_root() / "stacks"
    try:
        src, dst = promotion.load_pair(directory, source, target)
        changes = promotion.promotable_changes(src, dst)
    except promotion.PromotionRefused as exc:
        fail(str(exc))
    if not changes:
        console.print(f"{target} already has every promotable value of {source}; nothing to do", highlight=False)
        raise typer.Exit(int(ExitCode.OK))
    for change in changes:
        what = "added" if change.target is None else "removed" if change.source is None else "changed"
        console.print(f"~ {change.key} ({what})", markup=False, highlight=False)
    new_text = promotion.apply(dst.path, changes)
    console.print(promotion.unified_diff(dst.path, new_text), markup=False, highlight=False, end="")
    if dry_run:
        err_console.print("dry run: nothing written", highlight=False)
        raise typer.Exit(int(ExitCode.OK))
    plan = promotion.plan_with(directory, dst.path, new_text, timeout=timeout)
    if plan.error:
        fail(f"{target} as promoted does not plan: {plan.error}; nothing written")
    if plan.mandatory:
        for violation in plan.mandatory:
            err_console.print(f"mandatory {violation.rule}: {violation.message}", markup=False, highlight=False)
        fail(f"{target} as promoted has {len(plan.mandatory)} mandatory violation(s); nothing written",
             ExitCode.VIOLATIONS)
    promotion.write_atomically(dst.path, new_text)
    console.print(f"promoted {len(changes)} key(s) from {source} into {dst.path} (plan compliant); "
                  f"review and commit it, then CI deploys {target}", highlight=False)
