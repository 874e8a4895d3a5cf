"""Metric log lines, and the regexes SageMaker uses to turn them into CloudWatch metrics.

User code prints one line per epoch on rank 0, e.g. for the digits example::

    epoch=3 train_loss=0.1234 train_accuracy=0.961 validation_loss=0.1402 validation_accuracy=0.9583;

and passes :func:`definitions` of its metric names as ``AlgorithmSpecification.MetricDefinitions``
to CreateTrainingJob (the first ``_`` of a name becomes ``:``: ``validation:accuracy``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_LINE = re.compile(r"epoch=[0-9]+(?: [A-Za-z_][A-Za-z0-9_]*=[^\s;]+)+;")


def definitions(names: Sequence[str]) -> list[dict[str, str]]:
    """``{"Name", "Regex"}`` for the epoch and every metric in ``names`` (lines as :func:`format_line` writes)."""
    return [
        {"Name": "epoch", "Regex": rf"epoch=([0-9]+) {names[0]}="},
        *({"Name": name.replace("_", ":", 1), "Regex": rf"\b{name}={_NUMBER}"} for name in names),
    ]


def format_line(epoch: int, metrics: Mapping[str, float], names: Sequence[str]) -> str:
    """The log line for one epoch; metrics appear in ``names`` order."""
    values = " ".join(f"{name}={metrics[name]:.6g}" for name in names)
    return f"epoch={epoch} {values};"


def find_lines(log: str) -> list[str]:
    """The metric lines in a log, without timestamps or other prefixes, in order."""
    return _LINE.findall(log)


def parse_line(line: str, metric_definitions: Sequence[Mapping[str, str]]) -> dict[str, float]:
    """What SageMaker would extract from ``line`` with ``metric_definitions`` (for tests and local tooling)."""
    found = {}
    for definition in metric_definitions:
        match = re.search(definition["Regex"], line)
        if match:
            found[definition["Name"]] = float(match.group(1))
    return found
