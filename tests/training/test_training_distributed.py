"""Data-parallel training on CPU (gloo): two hosts from resourceconfig.json, and torchrun."""

from __future__ import annotations

import json
import math
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from training import checkpoint
from training.examples.digits.metrics import METRIC_DEFINITIONS
from training.metrics import find_lines, parse_line

HYPERPARAMETERS = {"batch_size": "32", "lr": "0.005", "hidden_sizes": "64", "seed": "11"}
HOSTS = ["algo-1", "algo-2"]
SAMPLES_PER_RANK = math.ceil(1437 / 2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_hosts(bases: list[Path], subprocess_env, train_command) -> list[subprocess.Popen]:
    """One process per host, each with its own base dir, meeting at 127.0.0.1 (as algo-1 would be)."""
    port = str(_free_port())
    return [subprocess.Popen(train_command, env=subprocess_env(base, MASTER_ADDR="127.0.0.1", MASTER_PORT=port),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for base in bases]


@pytest.mark.slow
def test_two_hosts_stop_together_then_resume_under_torchrun(base_dir, set_hyperparameters, subprocess_env,
                                                             train_command) -> None:
    bases = [base_dir({**HYPERPARAMETERS, "epochs": "100000"}, name=host,
                      resourceconfig={"current_host": host, "hosts": HOSTS, "network_interface_name": "lo"})
             for host in HOSTS]
    rank0, rank1 = _start_hosts(bases, subprocess_env, train_command)
    seen = []
    for line in rank0.stdout:
        seen.append(line)
        if "epoch=1 train_loss=" in line:
            rank1.send_signal(signal.SIGTERM)  # only one host is told; both must stop at the same step
            break
    stopped = ["".join(seen) + rank0.communicate(timeout=90)[0], rank1.communicate(timeout=90)[0]]
    assert [rank0.returncode, rank1.returncode] == [0, 0], stopped
    assert "received SIGTERM" in stopped[1] and "received SIGTERM" not in stopped[0]
    assert all(re.search(rf"rank={rank} world_size=2 epoch=1 steps=\d+ samples={SAMPLES_PER_RANK}\b", log)
               for rank, log in enumerate(stopped)), "both hosts trained"
    stops = [re.search(r"stopped: checkpoint saved at epochs_done=(\d+) step=(\d+)", log) for log in stopped]
    assert all(stops) and stops[0].groups() == stops[1].groups(), stopped
    done = int(stops[0][1])
    assert (bases[0] / "checkpoints" / "checkpoint.pt").exists() and not (bases[1] / "checkpoints").exists()

    # Resume the job under torchrun: two workers on one host sharing rank 0's base dir. Only rank 0
    # reads the checkpoint; rank 1 gets it over the process group.
    epochs = done + 1
    set_hyperparameters(bases[0], {**HYPERPARAMETERS, "epochs": str(epochs)})
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                *train_command[1:]]
    result = subprocess.run(torchrun, env=subprocess_env(bases[0]), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    log = result.stdout
    assert result.returncode == 0, log
    assert "launcher=torchrun" in log and log.count(f"epochs_done={done} step={stops[0][2]}") == 2
    for rank in (0, 1):
        assert re.search(rf"rank={rank} world_size=2 epoch={epochs} steps=\d+ samples={SAMPLES_PER_RANK}\b", log), log
    epochs_logged = [parse_line(line, METRIC_DEFINITIONS)["epoch"] for line in find_lines(log)]
    assert epochs_logged == [epochs], "only rank 0 logs metrics"
    assert log.count("model written to") == 1 and (bases[0] / "model" / "model.pt").exists()
    assert not (bases[1] / "model").exists()
    card = json.loads((bases[0] / "model" / "model_card.json").read_text())
    assert card["training"]["world_size"] == 2 and card["metrics"]["validation_accuracy"] > 0.85
    state = checkpoint.load(bases[0] / "checkpoints")
    assert state["epoch"] == epochs and len(state["ranks"]) == 2, "every rank's RNG state is in the checkpoint"
