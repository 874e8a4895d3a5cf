"""Metric log lines, and the regexes SageMaker uses to turn them into CloudWatch metrics.

Every epoch rank 0 prints one line::

    epoch=3 train_loss=0.1234 train_accuracy=0.961 validation_loss=0.1402 validation_accuracy=0.9583;

Pass :data:`METRIC_DEFINITIONS` as ``AlgorithmSpecification.MetricDefinitions`` to CreateTrainingJob
(``validation:accuracy`` is the natural objective for automatic model tuning, maximize).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

NAMES = ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy")
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": "epoch", "Regex": r"epoch=([0-9]+) train_loss="},
    *({"Name": name.replace("_", ":", 1), "Regex": rf"\b{name}={_NUMBER}"} for name in NAMES),
]


def format_line(epoch: int, metrics: Mapping[str, float]) -> str:
    """The log line for one epoch; metrics appear in :data:`NAMES` order."""
    values = " ".join(f"{name}={metrics[name]:.6g}" for name in NAMES)
    return f"epoch={epoch} {values};"


_LINE = re.compile(r"epoch=[0-9]+ train_loss=[^;]*;")


def find_lines(log: str) -> list[str]:
    """The metric lines in a log, without timestamps or other prefixes, in order."""
    return _LINE.findall(log)


def parse_line(line: str) -> dict[str, float]:
    """What SageMaker would extract from ``line`` (used by tests and local tooling)."""
    found = {}
    for definition in METRIC_DEFINITIONS:
        match = re.search(definition["Regex"], line)
        if match:
            found[definition["Name"]] = float(match.group(1))
    return found
