"""SIGTERM mid-run: checkpoint, exit 0; the rerun resumes where it stopped and ends with the same model."""

from __future__ import annotations

import re
import signal
import subprocess

import pytest
import torch

from training.examples.digits.metrics import METRIC_DEFINITIONS
from training.metrics import find_lines, parse_line

STOPPED = re.compile(r"stopped: checkpoint saved at epochs_done=(\d+) step=(\d+)")
# Small batches make an epoch ~90 steps, so the signal usually lands inside an epoch.
HYPERPARAMETERS = {"batch_size": "16", "hidden_sizes": "32", "lr": "0.002", "seed": "3"}


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_sigterm_then_resume_equals_an_uninterrupted_run(base_dir, set_hyperparameters, subprocess_env,
                                                         train_command) -> None:
    base = base_dir({**HYPERPARAMETERS, "epochs": "100000"}, name="interrupted")
    first = _start(train_command, subprocess_env(base))
    seen = []
    for line in first.stdout:
        seen.append(line)
        if "epoch=2 train_loss=" in line:
            first.send_signal(signal.SIGTERM)
            break
    rest, _ = first.communicate(timeout=60)
    log = "".join(seen) + rest
    assert first.returncode == 0, log
    assert "received SIGTERM" in log and "Traceback" not in log
    stopped = STOPPED.search(log)
    assert stopped, log
    done, step = int(stopped[1]), int(stopped[2])
    assert done >= 2 and (base / "checkpoints" / "checkpoint.pt").exists()
    assert not (base / "model" / "model.pt").exists() and not (base / "output" / "failure").exists()

    # Rerun the same job with a reachable end, next to an uninterrupted reference run.
    epochs = done + 1
    set_hyperparameters(base, {**HYPERPARAMETERS, "epochs": str(epochs)})
    reference_base = base_dir({**HYPERPARAMETERS, "epochs": str(epochs)}, name="reference")
    resumed = _start(train_command, subprocess_env(base))
    reference = _start(train_command, subprocess_env(reference_base))
    resumed_log, _ = resumed.communicate(timeout=120)
    reference_log, _ = reference.communicate(timeout=120)
    assert resumed.returncode == 0, resumed_log
    assert reference.returncode == 0, reference_log

    checkpoint_file = base / "checkpoints" / "checkpoint.pt"
    assert f"resuming from checkpoint {checkpoint_file}: epochs_done={done} step={step}" in resumed_log
    assert [parse_line(line, METRIC_DEFINITIONS)["epoch"] for line in find_lines(resumed_log)] == [epochs]
    assert find_lines(log) + find_lines(resumed_log) == find_lines(reference_log)
    resumed_weights = torch.jit.load(str(base / "model" / "model.pt")).state_dict()
    reference_weights = torch.jit.load(str(reference_base / "model" / "model.pt")).state_dict()
    assert all(torch.equal(resumed_weights[k], reference_weights[k]) for k in reference_weights)
