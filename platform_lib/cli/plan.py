"""`mlp plan` and `mlp stacks`: plan stacks offline, list stacks in deployment order."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import Environment, Refused, console, err_console, fail, project_root, warn
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from platform_lib.config.loader import StackFile
    from platform_lib.plan.runner import InvalidStack, StackPlan

DEFAULT_ENV = "prod"


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(stacks)


def plan(
    stack: list[str] = typer.Option(
        [], "--stack", "-s", metavar="NAME",
        help="Stack to plan (repeatable); a team stack brings its platform stack."),
    all_stacks: bool = typer.Option(False, "--all", help="Plan every stack in the stacks directory."),
    program: Path | None = typer.Option(
        None, "--program", metavar="PATH", help="Plan any Pulumi Python program (file or directory)."),
    env: Environment | None = typer.Option(
        None, "--env", help="With --program: the environment whose policy levels apply (default: prod)."),
    config_file: Path | None = typer.Option(
        None, "--config", metavar="FILE", help="With --program: a Pulumi.<stack>.yaml giving it its config."),
    stacks_dir: Path | None = typer.Option(
        None, "--stacks-dir", metavar="DIR", help="Where Pulumi.<stack>.yaml files live (default: ./stacks)."),
    json_file: Path | None = typer.Option(None, "--json", metavar="FILE", help="Write the whole plan as JSON."),
    diff: Path | None = typer.Option(
        None, "--diff", metavar="BASE.json", help="Compare with a plan JSON of the base: what changes."),
    diff_json: Path | None = typer.Option(None, "--diff-json", metavar="FILE", help="Write the --diff as JSON."),
    sarif_file: Path | None = typer.Option(
        None, "--sarif", metavar="FILE", help="Write violations as SARIF (GitHub code scanning)."),
    junit_file: Path | None = typer.Option(None, "--junit", metavar="FILE", help="Write a JUnit XML report."),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", min=1, metavar="N", help="Worker processes (default: one per core)."),
    timeout: float = typer.Option(
        600.0, "--timeout", min=1, metavar="SECONDS", help="Longest a stack's program may run."),
    tree: bool | None = typer.Option(
        None, "--tree/--no-tree", help="Print the resource tree (default: not with --all)."),
) -> None:
    """Run stacks' programs under Pulumi mocks and the policy pack on the result, offline.

    Exit 0 when compliant, 1 on mandatory violations (and only then), 2 on anything else: bad usage,
    invalid config, a failing program, a physical-name collision.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    if (stack or all_stacks) and program is None and (jobs or os.cpu_count() or 1) > 1:
        from platform_lib.plan import workers

        workers.start_warming()  # the workers' imports run on the other core while this process loads stacks
    from platform_lib.plan import ci_reports, report
    from platform_lib.plan import diff as plan_diff

    root = project_root()
    outputs = {"--json": json_file, "--diff-json": diff_json, "--sarif": sarif_file, "--junit": junit_file}
    try:
        if sum([bool(stack), all_stacks, program is not None]) != 1:
            raise Refused("choose exactly one of --stack NAME, --all, --program PATH")
        if program is None and (env is not None or config_file is not None):
            raise Refused("--env and --config apply to --program only: a stack's environment and config "
                          "come from its stack file")
        if diff_json is not None and diff is None:
            raise Refused("--diff-json needs --diff BASE.json")
        for option, path in outputs.items():
            if path is not None:
                report.check_destination(path, option)
        base = plan_diff.load_base(diff) if diff is not None else None
        plans = _plan(stack, all_stacks, program, env.value if env else DEFAULT_ENV, config_file,
                      stacks_dir or root / "stacks", jobs or os.cpu_count() or 1, timeout)
    except (Refused, ValueError) as exc:
        _leave_failure(outputs, str(exc))
        fail(str(exc))
    except BaseException as exc:
        if not isinstance(exc, typer.Exit):
            _leave_failure(outputs, f"unexpected error: {type(exc).__name__}: {exc}")
        raise

    report.print_plans(plans, console, tree=(not all_stacks) if tree is None else tree)
    code = max(p.exit_code for p in plans)
    if json_file is not None:
        report.write_json(plans, json_file, root)
        console.print(f"plan written to {json_file}", markup=False, highlight=False)
    if base is not None:
        current = report.plan_document(plans, root)["stacks"]
        changes = plan_diff.diff_plans(base, current, complete=all_stacks)
        console.print(plan_diff.table(changes))
        for line in plan_diff.details(changes):
            console.print(line, highlight=False, soft_wrap=True)
        if diff_json is not None:
            report.write_atomically(diff_json, report.dumps({"base": str(diff), "exitCode": int(code),
                                                             "stacks": changes}))
    if sarif_file is not None:
        from .app import package_version

        report.write_atomically(sarif_file, report.dumps(ci_reports.sarif(plans, root, package_version())))
    if junit_file is not None:
        report.write_atomically(junit_file, ci_reports.junit(plans, root))
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in ci_reports.github_annotations(plans, root):
            print(line)
    raise typer.Exit(int(code))


def _plan(names: list[str], all_stacks: bool, program: Path | None, env: str, config_file: Path | None,
          directory: Path, jobs: int, timeout: float) -> list[StackPlan]:
    from platform_lib.config.loader import ConfigError, load_stack_file
    from platform_lib.plan import runner

    if program is not None:
        config = {}
        if config_file is not None:
            try:
                config = load_stack_file(config_file).pulumi_config
            except ConfigError as exc:
                raise Refused(str(exc)) from None
            except Exception as exc:  # unreadable: still one message naming the file
                raise Refused(f"--config {config_file}: cannot read it: {type(exc).__name__}: {exc}") from None
        return [runner.plan_program(program, env=env, config=config, timeout=timeout)]
    available = _stack_files(directory)
    everything = [runner.load(path) for path in available]
    asked = everything if all_stacks else _with_platforms(names, directory, everything)
    total, finished = len(asked), 0

    def progress(done: StackPlan) -> None:
        nonlocal finished
        finished += 1
        if total > 1:
            status = "ok" if not done.error else "failed"
            err_console.print(f"[dim]planned {finished}/{total}: {done.stack} ({status})[/]", markup=True,
                              highlight=False)

    planned = runner.plan_stacks(asked, jobs=jobs, context=everything, timeout=timeout, on_planned=progress)
    return runner.deployment_order(planned)


def _stack_files(directory: Path) -> list[Path]:
    """The stack files of ``directory``; Refused if there are none, a warning for misnamed ones."""
    from platform_lib.plan import runner

    if not directory.is_dir():
        raise Refused(f"no stacks directory {directory} (give --stacks-dir, or run inside the project)")
    for ignored in runner.misnamed_stack_files(directory):
        warn(f"{ignored} is skipped: stack files are named Pulumi.<stack>.yaml")
    available = runner.stack_files(directory)
    if not available:
        raise Refused(f"no stack files (Pulumi.<stack>.yaml) in {directory}")
    return available


def _with_platforms(names: list[str], directory: Path,
                    everything: list[StackFile | InvalidStack]) -> list[StackFile | InvalidStack]:
    """Requested stacks plus the platform stack each team stack references (already loaded, once)."""
    from platform_lib.config.loader import StackFile

    by_path = {entry.path: entry for entry in everything}
    result: dict[Path, StackFile | InvalidStack] = {}
    for name in names:
        path = directory / f"Pulumi.{name}.yaml"
        entry = by_path.get(path)
        if entry is None:
            known = ", ".join(e.name for e in everything)
            raise Refused(f"no stack file {path}; stacks here: {known}")
        if isinstance(entry, StackFile) and entry.config.kind == "team":
            platform = by_path.get(directory / f"Pulumi.{entry.config.platform_stack_name}.yaml")
            if platform is not None:
                result.setdefault(platform.path, platform)
        result.setdefault(path, entry)
    return list(result.values())


def _leave_failure(outputs: dict[str, Path | None], error: str) -> None:
    """On a failure before the plan: `--json` says it failed; other reports are not left stale."""
    from platform_lib.plan import report

    for option, path in outputs.items():
        if path is None or path.is_dir():
            continue
        try:
            if option == "--json":
                report.write_atomically(path, report.dumps(report.failure_document(error)))
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass  # the destination itself is the problem, and the message says so


def stacks(
    env: Environment | None = typer.Option(None, "--env", help="Only stacks of this environment."),
    stacks_dir: Path | None = typer.Option(
        None, "--stacks-dir", metavar="DIR", help="Where Pulumi.<stack>.yaml files live (default: ./stacks)."),
) -> None:
    """List stack names in deployment order (platform stacks before the team stacks that read them).

    Exit 2 if any stack file is invalid, or there are none, naming the file or directory: CI must not
    deploy half an environment. Only names go to stdout.
    """
    from platform_lib.plan import runner

    try:
        paths = _stack_files(stacks_dir or project_root() / "stacks")
    except Refused as exc:
        fail(str(exc))
    loaded = [runner.load(path) for path in paths]
    invalid = [entry for entry in loaded if isinstance(entry, runner.InvalidStack)]
    for entry in invalid:
        err_console.print(entry.error, style="red", markup=False, soft_wrap=True, highlight=False)
    if invalid:
        raise typer.Exit(int(ExitCode.INVALID))
    chosen = [s for s in loaded if not isinstance(s, runner.InvalidStack)
              and (env is None or s.config.environment == env.value)]
    for stack_file in sorted(chosen, key=lambda s: (s.config.kind != "platform", s.name)):
        typer.echo(stack_file.name)
