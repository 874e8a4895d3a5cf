"""Every example stack plans cleanly: no violation, outputs that satisfy the contract."""

from pathlib import Path

import pytest

from platform_lib.contract import PlatformOutputs, TeamOutputs
from platform_lib.plan.runner import deployment_order, plan_stacks, stack_files

STACKS = Path(__file__).resolve().parents[2] / "stacks"
EXAMPLES = ["platform-dev", "platform-prod", "fraud-dev", "fraud-prod", "vision-dev", "vision-prod"]


def test_the_six_examples_are_the_stack_files():
    names = [p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stack_files(STACKS)]
    assert names == sorted(EXAMPLES)


@pytest.mark.parametrize("stack", EXAMPLES)
def test_example_stack_is_compliant(plans, stack):
    plan = plans[stack].plan
    assert plan.exit_code == 0
    assert [v.as_json() for v in plan.violations] == []   # not even advisory findings


@pytest.mark.parametrize("stack", EXAMPLES)
def test_outputs_satisfy_the_contract(plans, stack):
    plan = plans[stack].plan
    contract = PlatformOutputs if plan.kind == "platform" else TeamOutputs
    parsed = contract.model_validate(plan.outputs)
    assert parsed.environment == plan.environment


def test_logical_names_are_unique_per_type(plans):
    for view in plans.values():
        keys = [(r.type, r.name) for r in view.resources]
        assert len(keys) == len(set(keys)), view.plan.stack


def test_team_stacks_do_not_collide_across_teams(plans):
    def physical(stack):
        return {r.inputs.get("bucket") or r.inputs.get("name") for r in plans[stack].resources
                if r.type in ("aws:s3/bucket:Bucket", "aws:iam/role:Role")}
    assert not physical("fraud-prod") & physical("vision-prod")


def test_parallel_plan_matches_in_process_plan(plans):
    parallel = {p.stack: p for p in deployment_order(plan_stacks(stack_files(STACKS), jobs=2))}
    assert list(parallel) == EXAMPLES
    for name, view in plans.items():
        assert parallel[name].as_json() == view.plan.as_json()


def test_readme_stack_catalogue_counts_what_mlp_plan_registers(plans):
    """The README's `resources` column: each row's stacks, one count or the lowest–highest of them."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| (`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*) \|.*\| (\d+(?:–\d+)?) \|$", readme, re.M)
    named = {s for stacks, _ in rows for s in re.findall(r"`([a-z0-9-]+)`", stacks)}
    assert named == set(plans), "every example stack has a row"
    for stacks, count in rows:
        counts = sorted({len(plans[s].resources) for s in re.findall(r"`([a-z0-9-]+)`", stacks)})
        assert count == "–".join(str(c) for c in dict.fromkeys([counts[0], counts[-1]])), stacks
