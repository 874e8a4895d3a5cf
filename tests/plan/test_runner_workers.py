"""How `plan_stacks` schedules stacks, and that the workers' warm-up leaves nothing to import later."""

import subprocess
import sys
from pathlib import Path

from platform_lib.plan import runner
from platform_lib.plan.runner import StackPlan

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"


def fake_planner(calls, failing=()):
    """Stands in for `plan_stack_file`: records what each stack was given; platforms export their name."""

    def plan_stack_file(stack_file, stack_outputs=None, timeout=0.0):
        calls.append((stack_file.name, stack_outputs))
        config = stack_file.config
        plan = StackPlan(stack=stack_file.name, source=str(stack_file.path), kind=config.kind,
                         environment=config.environment, outputs={"from": stack_file.name})
        if stack_file.name in failing:
            plan.error = "the program raised"
        return plan

    return plan_stack_file


def test_a_team_starts_once_its_own_platform_is_planned_prod_first(monkeypatch):
    calls: list[tuple[str, dict | None]] = []
    monkeypatch.setattr(runner, "plan_stack_file", fake_planner(calls))
    finished: list[str] = []
    plans = runner.plan_stacks(runner.stack_files(STACKS), jobs=1, on_planned=lambda p: finished.append(p.stack))
    assert [name for name, _ in calls] == ["platform-prod", "fraud-prod", "vision-prod",
                                           "platform-dev", "fraud-dev", "vision-dev"]
    assert dict(calls) == {
        "platform-prod": None, "fraud-prod": {"platform-prod": {"from": "platform-prod"}},
        "vision-prod": {"platform-prod": {"from": "platform-prod"}},
        "platform-dev": None, "fraud-dev": {"platform-dev": {"from": "platform-dev"}},
        "vision-dev": {"platform-dev": {"from": "platform-dev"}},
    }
    assert finished == [name for name, _ in calls]
    assert [p.stack for p in plans] == [p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                                        for p in runner.stack_files(STACKS)]   # the order asked


def test_the_teams_of_a_failed_platform_say_so_and_the_others_still_plan(monkeypatch):
    calls: list[tuple[str, dict | None]] = []
    monkeypatch.setattr(runner, "plan_stack_file", fake_planner(calls, failing={"platform-dev"}))
    plans = {p.stack: p for p in runner.plan_stacks(runner.stack_files(STACKS), jobs=1)}
    assert sorted(name for name, _ in calls) == ["fraud-prod", "platform-dev", "platform-prod", "vision-prod"]
    for team in ("fraud-dev", "vision-dev"):
        assert plans[team].error == "its platform stack 'platform-dev' failed (see platform-dev)"
    assert plans["fraud-prod"].error is None


def test_warm_up_runs_every_provider_module_the_example_stacks_use():
    """After `warm_up` (what the workers' fork server runs), planning every example stack loads no
    other provider SDK module: the workers never import one each."""
    script = """
import sys
from pathlib import Path
from platform_lib.plan import runner
runner.warm_up()
def loaded():
    return {name for name, module in sys.modules.items()
            if name.startswith(("pulumi_aws.", "pulumi_kubernetes.", "policies."))
            and type(module).__name__ != "_LazyModule"}
before = loaded()
runner.plan_stacks(runner.stack_files(Path("stacks")), jobs=1)
print(sorted(loaded() - before))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"
