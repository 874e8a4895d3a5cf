"""`mlp`: the platform's command line."""

from __future__ import annotations

import os
import warnings
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from platform_lib.config.schema import ENVIRONMENTS

app = typer.Typer(add_completion=False, no_args_is_help=True, help="ML platform: plan stacks offline, deliver models.")
Environment = Enum("Environment", {name: name for name in ENVIRONMENTS}, type=str)
console = Console(width=None if Console().is_terminal else 160)


def project_root(start: Path | None = None) -> Path:
    """The nearest directory upwards holding Pulumi.yaml (else the current directory)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return here


@app.callback()
def _root() -> None:
    """ML platform command line."""


@app.command()
def plan(
    stack: list[str] = typer.Option(
        [], "--stack", "-s", help="Stack to plan (repeatable); a team stack brings its platform stack."),
    all_stacks: bool = typer.Option(False, "--all", help="Plan every stack in the stacks directory."),
    program: Path | None = typer.Option(
        None, "--program", help="Plan any Pulumi Python program (file or directory)."),
    env: Environment = typer.Option(
        Environment.prod, "--env", help="Environment whose policy levels apply to --program."),
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
        console.print("[red]choose exactly one of --stack NAME, --all, --program PATH[/]")
        raise typer.Exit(runner.EXIT_INVALID)
    directory = stacks_dir or project_root() / "stacks"

    if program is not None:
        config = {}
        if config_file is not None:
            try:
                config = load_stack_file(config_file).pulumi_config
            except ConfigError as exc:
                console.print(f"[red]{exc}[/]")
                raise typer.Exit(runner.EXIT_INVALID)
        plans = [runner.plan_program(program, env=env.value, config=config)]
    else:
        available = runner.stack_files(directory)
        if all_stacks:
            paths = available
        else:
            paths = _with_platforms([directory / f"Pulumi.{name}.yaml" for name in stack], available)
        if not paths:
            console.print(f"[red]no stack files (Pulumi.<stack>.yaml) in {directory}[/]")
            raise typer.Exit(runner.EXIT_INVALID)
        plans = runner.plan_stacks(paths, jobs=jobs)

    report.print_plans(plans, console, tree=(not all_stacks) if tree is None else tree)
    if json_file is not None:
        report.write_json(plans, json_file)
        console.print(f"plan written to {json_file}")
    raise typer.Exit(max(p.exit_code for p in plans))


@app.command()
def stacks(
    env: Environment | None = typer.Option(None, "--env", help="Only stacks of this environment."),
    stacks_dir: Path | None = typer.Option(None, "--stacks-dir", help="Where Pulumi.<stack>.yaml files live."),
) -> None:
    """List stack names in deployment order (platform stacks before the team stacks that read them).

    Exit 2 if any stack file is invalid, naming it: CI must not deploy half an environment.
    """
    from platform_lib.config.loader import ConfigError, load_stack_file
    from platform_lib.plan import runner

    loaded, failed = [], False
    for path in runner.stack_files(stacks_dir or project_root() / "stacks"):
        try:
            loaded.append(load_stack_file(path))
        except ConfigError as exc:
            console.print(f"[red]{exc}[/]", soft_wrap=True)
            failed = True
    if failed:
        raise typer.Exit(2)
    chosen = [s for s in loaded if env is None or s.config.environment == env.value]
    for stack_file in sorted(chosen, key=lambda s: (s.config.kind != "platform", s.name)):
        typer.echo(stack_file.name)


def _with_platforms(paths: list[Path], available: list[Path]) -> list[Path]:
    """Requested stacks plus the platform stack each team stack references (planned first)."""
    from platform_lib.config.loader import ConfigError, load_stack_file

    result: list[Path] = []
    for path in paths:
        if not path.is_file():
            names = ", ".join(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in available)
            console.print(f"[red]no stack file {path}; stacks here: {names or 'none'}[/]")
            raise typer.Exit(2)
        try:
            config = load_stack_file(path).config
        except ConfigError:
            config = None  # reported by the plan itself
        if config is not None and config.kind == "team":
            platform = path.with_name(f"Pulumi.{config.platform_stack_name}.yaml")
            if platform.is_file() and platform not in result:
                result.append(platform)
        if path not in result:
            result.append(path)
    return result


def main() -> None:
    app()


if __name__ == "__main__":
    main()
