"""`mlp promote model` and `mlp rollback`: bad input exits 2 naming the cause, before touching anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mlp(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # no AWS reachable
    return subprocess.run([sys.executable, "-m", "platform_lib.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("args", "cause"), [
    (["promote", "model", "--from", "fraud-qa", "--to", "fraud-prod", "--model", "digits"], "unknown stack 'fraud-qa'"),
    (["promote", "model", "--from", "vision-dev", "--to", "fraud-prod", "--model", "digits"],
     "belongs to team 'vision' and fraud-prod to team 'fraud'"),
    (["promote", "model", "--from", "fraud-prod", "--to", "fraud-staging", "--model", "digits"],
     "is not a higher environment than fraud-prod (prod)"),
    (["rollback", "--stack", "fraud-prod", "--model", "digits", "--reason", "latency"],
     "modelVersions has no 'digits'; nothing was promoted there to roll back"),
    (["rollback", "--stack", "fraud-qa", "--model", "digits", "--reason", "latency"], "unknown stack 'fraud-qa'"),
])
def test_bad_input_exits_2_and_changes_nothing(stacks, args, cause):
    files = {p: p.read_text() for p in stacks.iterdir()}
    result = mlp(*args, "--stacks-dir", stacks)
    assert result.returncode == 2, result.stdout + result.stderr
    assert cause in " ".join(result.stderr.split())
    assert {p: p.read_text() for p in stacks.iterdir()} == files


def test_commands_are_registered():
    result = mlp("--help")
    assert "promote" in result.stdout and "rollback" in result.stdout
    assert "model" in mlp("promote", "--help").stdout
