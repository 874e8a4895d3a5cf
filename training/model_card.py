"""``model_card.json``: what a reviewer or the model registry needs to know about a trained model."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from training.data import Dataset
from training.hyperparameters import Hyperparameters

FORMAT = 1


def git_revision(source: Path | None = None) -> str:
    """``GIT_REVISION`` (baked into the image at build time), else ``git rev-parse``, else ``unknown``."""
    revision = os.environ.get("GIT_REVISION", "").strip()
    if revision and revision != "unknown":
        return revision
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source or Path(__file__).parent,
                                capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def build(*, hyperparameters: Hyperparameters, dataset: Dataset, metrics: Mapping[str, float],
          history: Sequence[Mapping[str, float]], world_size: int, device: str,
          job_name: str | None) -> dict[str, Any]:
    """The card as a JSON-ready dict."""
    return {
        "format": FORMAT,
        "model": {"task": "multiclass-classification", "architecture": "mlp", "artifact": "model.pt",
                  "framework": "torchscript", "handler": "code/inference.py"},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_job_name": job_name,
        "git_revision": git_revision(),
        "framework_versions": {"torch": torch.__version__, "python": platform.python_version()},
        "hyperparameters": hyperparameters.model_dump(mode="json"),
        "metrics": dict(metrics),
        "history": [dict(h) for h in history],
        "data": {
            "sha256": dataset.sha256,
            "files": [asdict(f) for f in dataset.files],
            "rows": {"train": len(dataset.train_y), "validation": len(dataset.validation_y)},
        },
        "schema": {
            "features": [{"name": name, "dtype": "float32"} for name in dataset.feature_names],
            "label": {"name": dataset.label_name, "classes": list(dataset.classes)},
            "output": "probabilities over label.classes, in that order",
        },
        "training": {"world_size": world_size, "device": device},
    }
