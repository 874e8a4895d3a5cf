"""The example's metric names and their SageMaker metric definitions.

Pass :data:`METRIC_DEFINITIONS` as ``AlgorithmSpecification.MetricDefinitions`` to CreateTrainingJob
(``validation:accuracy`` is the natural objective for automatic model tuning, maximize).
"""

from __future__ import annotations

from training import metrics

NAMES = ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy")
METRIC_DEFINITIONS = metrics.definitions(NAMES)
