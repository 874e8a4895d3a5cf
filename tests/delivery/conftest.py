"""Delivery-plane fixtures: fraud-dev planned offline once, moto in server mode once per process, and a
fresh team (its resources created from the planned outputs) per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_lib import aws, emulator
from platform_lib.contract import TeamOutputs

ROOT = Path(__file__).resolve().parents[2]
STACK = "fraud-dev"
MODEL = "digits"


@pytest.fixture(scope="session")
def planned(tmp_path_factory) -> Path:
    """out/plan.json for platform-dev and fraud-dev, written by the real offline plan."""
    from platform_lib.plan import report, runner

    plans = runner.plan_stacks([ROOT / "stacks" / f"Pulumi.{s}.yaml" for s in ("platform-dev", STACK)], jobs=1)
    assert all(p.error is None for p in plans), [p.error for p in plans]
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    report.write_json(plans, path)
    return path


@pytest.fixture(scope="session")
def moto_server():
    with emulator.running(account_id="111111111111") as server:   # fraud-dev's account (stacks/)
        yield server


@dataclass
class Team:
    aws: aws.Aws
    planned: TeamOutputs     # the offline plan's outputs
    outputs: TeamOutputs     # as applied in moto (moto's key ARNs)
    plan: Path               # applied outputs in the plan format: pass as --plan
    stack: str = STACK
    model: str = MODEL


@pytest.fixture
def team(moto_server, planned, tmp_path) -> Team:
    from platform_lib import outputs

    moto_server.reset()
    session = aws.session(region="eu-west-1", max_attempts=1)
    planned_outputs = outputs.team(STACK, planned)
    applied = emulator.provision(session, planned_outputs, models=[MODEL])
    path = emulator.write_outputs(STACK, applied, tmp_path / "outputs.json", plan=planned)
    return Team(session, planned_outputs, applied, path)
