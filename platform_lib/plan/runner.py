"""Plan stacks offline: config → program under mocks → policies, for one stack, a program, or all."""

from __future__ import annotations

import contextlib
import runpy
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from platform_lib.cli.exit_codes import ExitCode
from platform_lib.config.loader import ConfigError, StackFile, load_stack_file, stack_name
from platform_lib.config.schema import TeamConfig
from platform_lib.contract import ContractError, PlatformOutputs, TeamOutputs, parse

from . import capture, workers
from .collisions import find_collisions
from .policy_run import Violation, evaluate

PROJECT = "ml-platform"
DEFAULT_TIMEOUT = 600.0
"""Seconds one stack's program may run (``--timeout``): generous, the example stacks take well under 1 s."""


@dataclass
class StackPlan:
    """The result of planning one stack: what `pulumi preview` plus the policy pack would report."""

    stack: str
    source: str
    kind: str | None = None
    environment: str | None = None
    resources: list[capture.CapturedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def exit_code(self) -> ExitCode:
        if self.error:
            return ExitCode.INVALID
        return ExitCode.VIOLATIONS if self.mandatory else ExitCode.OK

    def as_json(self, root: Path | None = None) -> dict[str, Any]:
        """The plan as data, the same bytes for the same code: sorted, no timings, ``source``
        relative to ``root`` (the project) when inside it."""
        return {
            "stack": self.stack, "source": relative(self.source, root), "kind": self.kind,
            "environment": self.environment, "exitCode": int(self.exit_code), "error": self.error,
            "warnings": self.warnings,
            "resources": [r.as_json() for r in sorted(self.resources, key=lambda r: r.urn)],
            "violations": [v.as_json() for v in sorted(self.violations, key=Violation.sort_key)],
            "outputs": capture.sorted_data(self.outputs),
        }


def relative(path: str | Path, root: Path | None) -> str:
    """``path`` relative to ``root`` if inside it (POSIX separators), else as given."""
    if root is None:
        return str(path)
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _infra_program() -> Callable[[], None]:
    from infra.program import main

    return main


KUBERNETES_APIS = (("apps", "v1"), ("autoscaling", "v2"), ("core", "v1"), ("networking", "v1"), ("policy", "v1"),
                   ("rbac", "v1"), ("scheduling", "v1"), ("helm", "v3"))
"""The pulumi_kubernetes API versions the program creates objects of (a test keeps it in step with infra/)."""


KUBERNETES_SDK_APIS = (("meta", "v1"),)
"""API versions pulumi_kubernetes itself loads when it registers an object."""


def warm_up() -> None:
    """Import the program, the policy pack and the provider modules they touch once, before forking workers."""
    import pulumi_aws as aws
    import pulumi_kubernetes as k8s

    import policies.pack  # noqa: F401  (evaluate imports it on first use)
    from policies.resource_types import warm_up_modules

    _infra_program()
    for module in warm_up_modules("aws"):
        _load(getattr(aws, module))
    for api, version in (*KUBERNETES_APIS, *KUBERNETES_SDK_APIS):
        _load(getattr(getattr(k8s, api), version))


def _load(module: ModuleType) -> None:
    """Run a provider SDK's submodule now: the package attribute is a lazy module
    (``pulumi._utils.lazy_import``) that runs only on the first access to one of its attributes."""
    getattr(module, "__all__", None)


def plan_stack_file(stack_file: StackFile, stack_outputs: dict[str, dict[str, Any]] | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> StackPlan:
    """Plan one validated stack of this project (platform stacks need no ``stack_outputs``)."""
    config = stack_file.config
    plan = StackPlan(stack=stack_file.name, source=str(stack_file.path), kind=config.kind,
                     environment=config.environment)
    return _execute(plan, _infra_program(), stack_file.pulumi_config, stack_outputs,
                    contract=PlatformOutputs if config.kind == "platform" else TeamOutputs, timeout=timeout)


def plan_program(path: Path, env: str, stack: str = "plan", config: dict[str, str] | None = None,
                 stack_outputs: dict[str, dict[str, Any]] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> StackPlan:
    """Plan any Pulumi Python program: a file, or a directory with `__main__.py`."""
    entry = path / "__main__.py" if path.is_dir() else path
    plan = StackPlan(stack=stack, source=str(entry), kind="program", environment=env)
    if not entry.is_file():
        plan.error = f"{entry}: no such program (expected a .py file or a directory with __main__.py)"
        return plan

    def program() -> None:
        sys.path.insert(0, str(entry.parent))  # as Pulumi's Python host does
        try:
            runpy.run_path(str(entry), run_name="__main__")
        finally:
            sys.path.remove(str(entry.parent))

    return _execute(plan, program, config or {}, stack_outputs, contract=None, timeout=timeout)


def _execute(plan: StackPlan, program, config, stack_outputs, contract, timeout: float) -> StackPlan:
    started = time.perf_counter()
    try:
        with _deadline(timeout):
            result = capture.run(program, project=PROJECT, stack=plan.stack, config=config,
                                 stack_outputs=stack_outputs)
        plan.resources, plan.outputs = result.resources, result.outputs
        plan.warnings += [f"invoke {token} is not mocked: it returned nothing" for token in result.unknown_invokes]
        if contract is not None:
            parse(contract, plan.outputs, f"stack {plan.stack}")
        plan.violations = evaluate(plan.resources, plan.environment or "prod")
    except (capture.ProgramError, ContractError) as exc:
        plan.error = str(exc)
    except PlanTimeout:
        plan.error = (f"the program did not finish within {timeout:g} s (--timeout); "
                      f"does it wait for something that never comes?")
    plan.seconds = time.perf_counter() - started
    return plan


class PlanTimeout(BaseException):
    """A program ran past its deadline (a BaseException, so that the program's own handlers let it pass)."""


@contextlib.contextmanager
def _deadline(seconds: float):
    """Interrupt the program after ``seconds`` (SIGALRM; plans run in the main thread of their process)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise PlanTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class InvalidStack:
    """A stack file that failed to load: its name (from the file name) and why."""

    path: Path
    name: str
    error: str


def load(path: Path) -> StackFile | InvalidStack:
    """Load and validate one stack file, once; an invalid or unreadable one is kept with its error."""
    try:
        return load_stack_file(path)
    except ConfigError as exc:
        return InvalidStack(path, stack_name(path), str(exc))
    except Exception as exc:  # unreadable file, a loader bug: still one message naming the file
        return InvalidStack(path, stack_name(path), f"cannot read stack file {path}: {type(exc).__name__}: {exc}")


def plan_stacks(stacks: Sequence[Path | StackFile | InvalidStack], jobs: int = 2, *,
                context: Sequence[Path | StackFile | InvalidStack] = (), timeout: float = DEFAULT_TIMEOUT,
                on_planned: Callable[[StackPlan], None] | None = None) -> list[StackPlan]:
    """Plan stack files together: platforms first, each team against its planned platform's outputs.

    Paths are loaded here; already loaded stacks are not read again. Invalid configs are reported
    without planning; a team whose platform is missing or failed says which and why. ``context``:
    the other stacks of the directory, planned too (not returned) so that every planned stack's
    physical names are checked against all of them. A team starts as soon as its own platform is
    planned, the largest stacks first (`_largest_first`). Plans come back in the given order
    (``deployment_order`` sorts them for display); ``on_planned`` hears of each as it finishes.
    """
    asked = [load(s) if isinstance(s, Path) else s for s in stacks]
    asked_paths = {entry.path for entry in asked}
    others = [e for e in (load(s) if isinstance(s, Path) else s for s in context)
              if e.path not in asked_paths and not isinstance(e, InvalidStack)]
    plans: dict[Path, StackPlan] = {}
    loaded: list[StackFile] = []
    for entry in [*asked, *others]:
        if isinstance(entry, InvalidStack):
            plans[entry.path] = StackPlan(stack=entry.name, source=str(entry.path), error=entry.error)
        else:
            loaded.append(entry)

    def done(path: Path, plan: StackPlan) -> None:
        plans[path] = plan
        if on_planned is not None and path in asked_paths:
            on_planned(plan)

    for entry in asked:
        if isinstance(entry, InvalidStack):
            done(entry.path, plans[entry.path])
    ready = [s for s in loaded if s.config.kind == "platform"]
    teams = [(s, s.config) for s in loaded if isinstance(s.config, TeamConfig)]
    platform_outputs: dict[str, dict[str, Any]] = {}
    with _pool(jobs, len(loaded)) as pool:
        running: dict[Future[StackPlan], StackFile] = {}
        while ready or running:
            ready.sort(key=_largest_first)
            while ready and len(running) < max(jobs, 1):
                stack_file = ready.pop(0)
                inputs = None
                if isinstance(stack_file.config, TeamConfig):
                    name = stack_file.config.platform_stack_name
                    inputs = {name: platform_outputs[name]}
                running[pool.submit(plan_stack_file, stack_file, inputs, timeout)] = stack_file
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                stack_file = running.pop(future)
                plan = future.result()
                done(stack_file.path, plan)
                if plan.kind == "platform" and not plan.error:
                    platform_outputs[plan.stack] = plan.outputs
                    ready += [s for s, config in teams if config.platform_stack_name == plan.stack]
    for stack_file, config in teams:
        if config.platform_stack_name not in platform_outputs:
            done(stack_file.path, StackPlan(
                stack=stack_file.name, source=str(stack_file.path), kind="team",
                environment=config.environment, error=_missing_platform(stack_file, config, loaded, plans)))
    _flag_collisions(list(plans.values()))
    return [plans[entry.path] for entry in asked]


ENVIRONMENT_SIZE = {"prod": 0, "staging": 1}
"""Prod stacks are the largest (more regions, zones and replicas), dev the smallest."""


def _largest_first(stack_file: StackFile) -> tuple[int, str]:
    """The order ready stacks start in, so the longest ones do not finish last on an otherwise idle pool."""
    return ENVIRONMENT_SIZE.get(stack_file.config.environment, 2), stack_file.name


def _missing_platform(stack_file: StackFile, config: TeamConfig, loaded: list[StackFile],
                      plans: dict[Path, StackPlan]) -> str:
    """Why a team stack's platform stack gave no outputs, exactly."""
    name = config.platform_stack_name
    path = stack_file.path.with_name(f"Pulumi.{name}.yaml")
    target = next((s for s in loaded if s.path == path), None)
    if not path.is_file():
        return f"platformStack {name!r}: there is no stack file {path.name} in {path.parent}"
    if target is not None and target.config.kind == "team":
        return f"platformStack {name!r} is a team stack ({path.name}); it must name a platform stack"
    if target is None and path not in plans:
        return f"its platform stack {name!r} was not among the planned stacks"
    return f"its platform stack {name!r} failed (see {name})"


def deployment_order(plans: list[StackPlan]) -> list[StackPlan]:
    """Platform stacks before the team stacks that read them, each group by name; invalid ones last."""
    rank = {"platform": 0, "team": 1}
    return sorted(plans, key=lambda p: (rank.get(p.kind or "", 2), p.stack))


def _flag_collisions(plans: list[StackPlan]) -> None:
    """Stacks that would claim the same physical names fail together, each naming the others."""
    by_stack = {plan.stack: plan for plan in plans if not plan.error}
    shared: dict[frozenset[str], list] = {}
    for collision in find_collisions({name: plan.resources for name, plan in by_stack.items()}):
        shared.setdefault(frozenset(stack for stack, _ in collision.claims), []).append(collision)
    for stacks, collisions in shared.items():
        examples = "; ".join(str(c) for c in collisions[:3])
        message = (f"physical name collision: stacks {', '.join(sorted(stacks))} would all create "
                   f"{len(collisions)} resource(s) with the same names, e.g. {examples}. Each team stack "
                   f"needs its own team name or environment (is a stack file copied?)")
        for stack in stacks:
            by_stack[stack].error = "\n".join(filter(None, [by_stack[stack].error, message]))


class _InProcess:
    """The same interface as a process pool, for one job (and for debugging)."""

    def submit(self, fn: Callable[..., StackPlan], *args: Any) -> Future[StackPlan]:
        future: Future[StackPlan] = Future()
        future.set_result(fn(*args))
        return future

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _pool(jobs: int, work: int):
    """Worker processes (see `workers`), or this process when there is one job or one stack."""
    if jobs <= 1 or work <= 1:
        return _InProcess()
    return workers.pool(jobs)


def stack_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("Pulumi.*.yaml"))


def misnamed_stack_files(directory: Path) -> list[Path]:
    """Files that look like stack files but are skipped: Pulumi reads only ``Pulumi.<stack>.yaml``."""
    return sorted(directory.glob("Pulumi.*.yml"))
