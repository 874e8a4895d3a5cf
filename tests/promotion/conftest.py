"""A stacks directory with a staging environment: fraud-staging and platform-staging derived from dev."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stacks(tmp_path) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    for path in (ROOT / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, directory / path.name)
    for name in ("platform", "fraud"):
        text = (directory / f"Pulumi.{name}-dev.yaml").read_text()
        staging = text.replace("environment: dev", "environment: staging").replace("111111111111", "333333333333")
        (directory / f"Pulumi.{name}-staging.yaml").write_text(staging)
    return directory
