"""`mlp` as a user runs it: a subprocess in the project, with this tree on the path."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).parent / "programs"
STACKS = ROOT / "stacks"


def run_mlp(*args, cwd=ROOT, env=None, timeout=300):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("GITHUB_ACTIONS", None) if "GITHUB_ACTIONS" not in (env or {}) else None
    return subprocess.run([sys.executable, "-m", "platform_lib.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=environment)


@pytest.fixture(scope="session")
def mlp():
    return run_mlp


@pytest.fixture(scope="session")
def plan_program():
    """`mlp plan --program tests/plan/programs/<name>` (extra arguments appended)."""
    return lambda program, *extra: run_mlp("plan", "--program", PROGRAMS / program, *extra)


@pytest.fixture
def dev_stacks(tmp_path):
    """platform-dev and fraud-dev in a directory of their own."""
    directory = tmp_path / "stacks"
    directory.mkdir()
    for name in ("platform-dev", "fraud-dev"):
        shutil.copy(STACKS / f"Pulumi.{name}.yaml", directory)
    return directory
