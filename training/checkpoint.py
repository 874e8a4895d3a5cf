"""Checkpoints in ``/opt/ml/checkpoints`` (SageMaker syncs the folder to S3 and back for spot jobs).

One file, ``checkpoint.pt``, replaced atomically: written to a hidden temporary file in the same
folder, flushed, then renamed over the old one, so a crash or a sync never sees half a checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from training.errors import CheckpointError

FILE_NAME = "checkpoint.pt"
FORMAT = 1


def path(directory: Path) -> Path:
    return directory / FILE_NAME


def save(directory: Path, state: dict[str, Any]) -> Path:
    """Atomically replace the checkpoint in ``directory`` with ``state``."""
    directory.mkdir(parents=True, exist_ok=True)
    target = path(directory)
    tmp = directory / f".{FILE_NAME}.tmp-{os.getpid()}"
    try:
        with tmp.open("wb") as handle:
            torch.save({"format": FORMAT, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
    return target


def load(directory: Path) -> dict[str, Any] | None:
    """The saved state, or ``None`` when there is no checkpoint; tensors only (``weights_only``)."""
    target = path(directory)
    if not target.exists():
        return None
    try:
        state = torch.load(target, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise CheckpointError(f"{target} cannot be read ({type(exc).__name__}: {exc}); delete it (or point "
                              "CheckpointConfig at an empty S3 prefix) to start from scratch.") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{target} is not a checkpoint of this trainer (format {FORMAT}); delete it "
                              "(or point CheckpointConfig at an empty S3 prefix) to start from scratch.")
    return state


def rng_state() -> dict[str, torch.Tensor]:
    """This process's random number generator state (dropout masks depend on it)."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
