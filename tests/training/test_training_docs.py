"""training/README.md documents the hyperparameters and metric regexes the code actually has."""

from __future__ import annotations

from pathlib import Path

from training.examples.digits.hyperparameters import Hyperparameters
from training.examples.digits.metrics import METRIC_DEFINITIONS
from training.hyperparameters import table

README = (Path(__file__).resolve().parents[2] / "training" / "README.md").read_text()


def test_every_hyperparameter_is_documented_with_type_and_default() -> None:
    for name, kind, default, _ in table(Hyperparameters):
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        assert f"| `{name}` | {kind} | `{shown}` |" in README, name


def test_every_metric_regex_is_documented() -> None:
    for definition in METRIC_DEFINITIONS:
        assert f"| `{definition['Name']}` | `{definition['Regex']}` |" in README, definition["Name"]
