"""Errors a user can fix, and how they reach SageMaker: one paragraph in ``output/failure``."""

from __future__ import annotations

import os
from pathlib import Path

# SageMaker shows the first 1024 characters of output/failure as the job's FailureReason.
FAILURE_REASON_LIMIT = 1024

# Exit codes of `train` and of user code run through `training.job.run` (documented in training/README.md).
EXIT_OK, EXIT_INVALID, EXIT_BUG = 0, 1, 2


class TrainingError(Exception):
    """A problem with the job's inputs (config, hyperparameters, data, checkpoint), not a bug."""

    kind = "Training failed"

    def reason(self) -> str:
        """The one-paragraph text written to ``output/failure``."""
        return " ".join(f"{self.kind}: {self}".split())


class ConfigError(TrainingError):
    kind = "Invalid job configuration"


class UsageError(TrainingError):
    kind = "Invalid command line"


class HyperparameterError(TrainingError):
    kind = "Invalid hyperparameters"


class DataError(TrainingError):
    kind = "Invalid training data"


class CheckpointError(TrainingError):
    kind = "Cannot resume from checkpoint"


def write_failure(path: Path, reason: str) -> None:
    """Write ``reason`` to the failure file (atomically, so SageMaker never reads half of it).

    A reason from a process other than rank 0 of a torchrun/multi-host job says which rank failed.
    """
    rank = os.environ.get("RANK")
    if rank not in (None, "0"):
        reason = f"[rank {rank}] {reason}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(reason.strip() + "\n", encoding="utf-8")
    os.replace(tmp, path)
