"""`mlp plan` and `mlp stacks`: plan stacks offline, list stacks in deployment order."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from .common import Environment, console, fail, project_root
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from platform_lib.config.loader import StackFile
    from platform_lib.plan.runner import InvalidStack


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(stacks)


def plan(
    stack: list[str] = typer.Option(
        [], "--stack", "-s", help="Stack to plan (repeatable); a team stack brings its platform stack."),
    all_stacks: bool = typer.Option(False, "--all", help="Plan every stack in the stacks directory."),
    program: Path | None = typer.Option(
        None, "--program", help="Plan any Pulumi Python program (file or directory)."),
    env: Environment = typer.Option(
        Environment("prod"), "--env", help="Environment whose policy levels apply to --program."),
    config_file: Path | None = typer.Option(
        None, "--config", help="A Pulumi.<stack>.yaml giving --program its config."),
    stacks_dir: Path | None = typer.Option(None, "--stacks-dir", help="Where Pulumi.<stack>.yaml files live."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the whole plan as JSON."),
    jobs: int = typer.Option(
        os.cpu_count() or 1, "--jobs", "-j", min=1, help="Worker processes (default: one per core)."),
    tree: bool | None = typer.Option(
        None, "--tree/--no-tree", help="Print the resource tree (default: not with --all)."),
) -> None:
    """Run stacks' programs under Pulumi mocks and the policy pack on the result, offline.

    Exit 0 when compliant, 1 on mandatory violations, 2 on invalid config or a failing program.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from platform_lib.config.loader import ConfigError, load_stack_file
    from platform_lib.plan import report, runner

    chosen = sum([bool(stack), all_stacks, program is not None])
    if chosen != 1:
        fail("choose exactly one of --stack NAME, --all, --program PATH")
    directory = stacks_dir or project_root() / "stacks"

    if program is not None:
        config = {}
        if config_file is not None:
            try:
                config = load_stack_file(config_file).pulumi_config
            except ConfigError as exc:
                fail(str(exc))
        plans = [runner.plan_program(program, env=env.value, config=config)]
    else:
        available = runner.stack_files(directory)
        if not available:
            fail(f"no stack files (Pulumi.<stack>.yaml) in {directory}")
        if all_stacks:
            entries = [runner.load(path) for path in available]
        else:
            entries = _with_platforms([directory / f"Pulumi.{name}.yaml" for name in stack], available)
        plans = runner.plan_stacks(entries, jobs=jobs)

    report.print_plans(plans, console, tree=(not all_stacks) if tree is None else tree)
    if json_file is not None:
        report.write_json(plans, json_file)
        console.print(f"plan written to {escape(str(json_file))}")
    raise typer.Exit(int(max(p.exit_code for p in plans)))


def stacks(
    env: Environment | None = typer.Option(None, "--env", help="Only stacks of this environment."),
    stacks_dir: Path | None = typer.Option(None, "--stacks-dir", help="Where Pulumi.<stack>.yaml files live."),
) -> None:
    """List stack names in deployment order (platform stacks before the team stacks that read them).

    Exit 2 if any stack file is invalid, naming it: CI must not deploy half an environment.
    """
    from platform_lib.plan import runner

    loaded = [runner.load(path) for path in runner.stack_files(stacks_dir or project_root() / "stacks")]
    invalid = [entry for entry in loaded if isinstance(entry, runner.InvalidStack)]
    for entry in invalid:
        console.print(escape(str(entry.error)), style="red", soft_wrap=True, highlight=False)
    if invalid:
        raise typer.Exit(int(ExitCode.INVALID))
    chosen = [s for s in loaded if not isinstance(s, runner.InvalidStack)
              and (env is None or s.config.environment == env.value)]
    for stack_file in sorted(chosen, key=lambda s: (s.config.kind != "platform", s.name)):
        typer.echo(stack_file.name)


def _with_platforms(paths: list[Path], available: list[Path]) -> list[StackFile | InvalidStack]:
    """Requested stacks, each loaded once, plus the platform stack each team stack references (first)."""
    from platform_lib.config.loader import StackFile, stack_name
    from platform_lib.plan import runner

    result: dict[Path, StackFile | InvalidStack] = {}
    for path in paths:
        if not path.is_file():
            names = ", ".join(stack_name(p) for p in available)
            fail(f"no stack file {path}; stacks here: {names or 'none'}")
        entry = result.get(path) or runner.load(path)
        if isinstance(entry, StackFile) and entry.config.kind == "team":
            platform = path.with_name(f"Pulumi.{entry.config.platform_stack_name}.yaml")
            if platform.is_file() and platform not in result:
                result[platform] = runner.load(platform)
        result.setdefault(path, entry)
    return list(result.values())
