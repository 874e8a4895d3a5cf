"""Benchmark of the offline plan (`mlp plan`): not a test, run with `make bench` or `python benchmarks/plan.py`.

Measures, in one run on this machine:
  1. `mlp plan --all` on the example stacks, end to end as a user runs it (process start included);
  2. plan time per example stack (warm, in-process);
  3. the harness's overhead: our plan (realistic mocks, capture, contract, policy pack) against bare SDK
     registration of the same program under Pulumi's stock mock monitor with trivial mocks;
  4. how cost grows with 10, 50 and 150 generated team stacks (`--all` with both cores);
  5. with ``--against DIR`` (another source tree, e.g. an export of the previous commit): `mlp plan --all`
     of both trees, interleaved, on the example stacks and on 50 generated teams, and the ratio.
Wall times are medians of repeated runs; the overhead compares the fastest of interleaved runs of both
sides (the least disturbed by other load). Ratios compare numbers measured in this same run.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
from pulumi.runtime import settings  # noqa: E402
from pulumi.runtime.stack import run_pulumi_func  # noqa: E402
from pulumi.runtime.sync_await import _sync_await  # noqa: E402

from platform_lib.config.loader import load_stack_file  # noqa: E402
from platform_lib.plan import runner  # noqa: E402

STACKS = ROOT / "stacks"
PR_SET_CHILD_SUBREAPER = 36  # prctl(2)


def median_seconds(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


class BareMocks(pulumi.runtime.Mocks):
    """The least a mock can do: echo inputs, answer the StackReference so the program can run."""

    def __init__(self, stack_outputs):
        self.stack_outputs = stack_outputs

    def new_resource(self, args):
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs.get("name", args.name).rsplit("/", 1)[-1]
            return args.name, {"name": name, "outputs": self.stack_outputs.get(name, {})}
        return f"{args.name}-id", {"arn": f"arn:aws:bare:::{args.name}", **args.inputs}

    def call(self, args):
        return {"names": ["a", "b", "c", "d", "e", "f"]}, []


def bare_registration(stack_file, stack_outputs) -> None:
    """The same program, registered through the SDK's own MockMonitor: no capture, no policies."""
    from infra.program import main

    settings.reset_options(project="ml-platform", stack=stack_file.name, preview=False, organization="organization")
    pulumi.runtime.set_all_config(dict(stack_file.pulumi_config))
    pulumi.runtime.set_mocks(BareMocks(stack_outputs), project="ml-platform", stack=stack_file.name, preview=False,
                             organization="organization")
    _sync_await(run_pulumi_func(main))


def example_stacks(repeat: int) -> tuple[list[tuple[str, int, float, float]], dict]:
    files = {p.name: load_stack_file(p) for p in runner.stack_files(STACKS)}
    platform_outputs = {}
    for stack_file in files.values():
        if stack_file.config.kind == "platform":
            platform_outputs[stack_file.name] = runner.plan_stack_file(stack_file).outputs
    rows = []
    for stack_file in files.values():
        outputs = None if stack_file.config.kind == "platform" else platform_outputs
        plan = runner.plan_stack_file(stack_file, outputs)  # warm-up, and the resource count
        assert plan.error is None, plan.error
        # Interleaved, so that drift in machine load hits both sides alike.
        samples = [(median_seconds(lambda s=stack_file, o=outputs: runner.plan_stack_file(s, o), 1),
                    median_seconds(lambda s=stack_file: bare_registration(s, platform_outputs), 1))
                   for _ in range(repeat)]
        # The minimum is the run least disturbed by other load: the intrinsic cost of each side.
        harness, bare = (min(side) for side in zip(*samples, strict=True))
        rows.append((stack_file.name, len(plan.resources), harness, bare))
    return rows, platform_outputs


def mlp_plan_all(stacks_dir: Path, repeat: int, tree: Path = ROOT) -> float:
    """`mlp plan --all` of the source tree ``tree`` as a user runs it: median wall time."""
    return statistics.median(plan_all_once(stacks_dir, tree)[0] for _ in range(repeat))


def plan_all_once(stacks_dir: Path, tree: Path = ROOT) -> tuple[float, float]:
    """One `mlp plan --all` (2 workers): (wall seconds, CPU seconds of the whole process tree: the process,
    its fork server and the workers)."""
    command = [sys.executable, "-m", "platform_lib.cli", "plan", "--all", "--jobs", "2",
               "--stacks-dir", str(stacks_dir)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    _adopt_orphans()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=tree, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux): the fork server outlives `mlp` by a
    moment, and without this its CPU time and its workers' would never reach RUSAGE_CHILDREN."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans() -> None:
    """Wait for the adopted descendants, so their CPU time is counted."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def against(other: Path, repeat: int) -> None:
    """This tree against ``other``, interleaved run by run; the fastest of each side is kept. CPU time
    (the process and its workers) is the steadier figure on a shared machine; wall time follows load."""
    print(f"\n== this tree vs {other}: mlp plan --all, 2 workers, fastest of {repeat} interleaved runs")
    print(f"   {'stacks':<16}{'this wall':>10}{'other wall':>11}{'ratio':>7}"
          f"{'this CPU':>10}{'other CPU':>10}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        generated_stacks(Path(tmp), 50)
        for label, directory in (("examples (6)", STACKS), ("generated (51)", Path(tmp))):
            runs = [(plan_all_once(directory, ROOT), plan_all_once(directory, other)) for _ in range(repeat)]
            wall = [min(r[side][0] for r in runs) for side in (0, 1)]
            cpu = [min(r[side][1] for r in runs) for side in (0, 1)]
            print(f"   {label:<16}{wall[0]:>10.2f}{wall[1]:>11.2f}{wall[0] / wall[1]:>6.2f}x"
                  f"{cpu[0]:>10.2f}{cpu[1]:>10.2f}{cpu[0] / cpu[1]:>6.2f}x")


def generated_stacks(directory: Path, teams: int) -> int:
    """platform-dev plus `teams` team stacks like fraud-dev; returns the number of stacks."""
    (directory / "Pulumi.platform-dev.yaml").write_text((STACKS / "Pulumi.platform-dev.yaml").read_text())
    template = (STACKS / "Pulumi.fraud-dev.yaml").read_text()
    for index in range(teams):
        name = f"team{index:03d}"
        (directory / f"Pulumi.{name}-dev.yaml").write_text(template.replace("fraud", name))
    return teams + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scales", type=int, nargs="*", default=[10, 50, 150])
    parser.add_argument("--against", type=Path, help="another source tree to compare `mlp plan --all` with")
    args = parser.parse_args()
    if args.against:
        against(args.against.resolve(), args.repeat)
        return

    print("== mlp plan --all, example stacks (process start included, 2 workers)")
    all_seconds = mlp_plan_all(STACKS, args.repeat)
    print(f"   median wall time: {all_seconds:.2f} s   (target < 15 s)")

    print("\n== per example stack, warm, in-process (fastest of interleaved runs); overhead vs bare SDK registration")
    print(f"   {'stack':<15}{'resources':>10}{'plan s':>9}{'ms/res':>8}{'bare s':>9}{'overhead':>10}")
    rows, _ = example_stacks(args.repeat)
    for name, count, harness, bare in rows:
        print(f"   {name:<15}{count:>10}{harness:>9.3f}{1000 * harness / count:>8.2f}{bare:>9.3f}"
              f"{harness / bare - 1:>+10.1%}")
    total_harness, total_bare = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"   {'all':<15}{sum(r[1] for r in rows):>10}{total_harness:>9.3f}{'':>8}{total_bare:>9.3f}"
          f"{total_harness / total_bare - 1:>+10.1%}   (target < +15%)")

    print("\n== generated team stacks: mlp plan --all, 2 workers")
    print(f"   {'stacks':>7}{'resources':>10}{'wall s':>9}{'ms/res':>8}")
    per_resource = []
    for teams in args.scales:
        with tempfile.TemporaryDirectory() as tmp:
            stacks = generated_stacks(Path(tmp), teams)
            count = sum(len(p.resources) for p in runner.plan_stacks(runner.stack_files(Path(tmp)), jobs=2))
            seconds = mlp_plan_all(Path(tmp), 1)
        per_resource.append(seconds / count)
        print(f"   {stacks:>7}{count:>10}{seconds:>9.2f}{1000 * seconds / count:>8.2f}")
    if len(per_resource) > 1:
        print(f"   cost per resource at {args.scales[-1]} teams vs {args.scales[0]}: "
              f"{per_resource[-1] / per_resource[0]:.2f}x (1.0 = linear; fixed start-up cost makes small runs dearer)")


if __name__ == "__main__":
    main()
