"""Fixtures for the training runtime tests: channel data, SageMaker-style base dirs, clean environments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from training.examples.digits import dataset

# Variables set by the sagemaker-training toolkit or torchrun; the contract tests run without them.
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                      "TRAINING_JOB_NAME", "SAGEMAKER_BASE_DIR", "GLOO_SOCKET_IFNAME", "NCCL_SOCKET_IFNAME")


def clean_environ(base: Path | None = None, **extra: str) -> dict[str, str]:
    """os.environ without SM_* and launcher variables, for a subprocess run rooted at ``base``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_") and k not in LAUNCHER_VARIABLES}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    if base is not None:
        env["SAGEMAKER_BASE_DIR"] = str(base)
    env.update(extra)
    return env


def strip_launcher_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SM_") or name in LAUNCHER_VARIABLES:
            monkeypatch.delenv(name)


@pytest.fixture
def no_launcher_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SM_* or torchrun variables: everything must come from the files under the base dir."""
    strip_launcher_env(monkeypatch)


@pytest.fixture(scope="session")
def digits_channels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``train/`` and ``validation/`` exported once per worker by ``training.dataset``."""
    out = tmp_path_factory.mktemp("digits")
    dataset.export(out)
    return out


BaseDirFactory = Callable[..., Path]


def write_hyperparameters(base: Path, hyperparameters: Mapping[str, str]) -> None:
    """(Re)write ``input/config/hyperparameters.json``, values as strings like SageMaker's."""
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps({k: str(v) for k, v in hyperparameters.items()}))


def write_base_dir(base: Path, channels: Path, hyperparameters: Mapping[str, str],
                   resourceconfig: Mapping[str, object] | None = None) -> Path:
    """Lay out ``base`` as SageMaker does: config files and a copy of every channel."""
    write_hyperparameters(base, hyperparameters)
    config = base / "input" / "config"
    names = sorted(p.name for p in channels.iterdir() if p.is_dir())
    (config / "inputdataconfig.json").write_text(json.dumps({
        name: {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
               "RecordWrapperType": "None"} for name in names}))
    if resourceconfig is not None:
        (config / "resourceconfig.json").write_text(json.dumps(dict(resourceconfig)))
    for name in names:
        shutil.copytree(channels / name, base / "input" / "data" / name, dirs_exist_ok=True)
    return base


@pytest.fixture
def base_dir(tmp_path: Path, digits_channels: Path) -> BaseDirFactory:
    """Factory: ``base_dir(hyperparameters, name="job", resourceconfig=None)`` -> a ready base dir."""
    def make(hyperparameters: Mapping[str, str], name: str = "job",
             resourceconfig: Mapping[str, object] | None = None) -> Path:
        return write_base_dir(tmp_path / name, digits_channels, hyperparameters, resourceconfig)
    return make


@pytest.fixture
def set_hyperparameters() -> Callable[[Path, Mapping[str, str]], None]:
    """``set_hyperparameters(base, values)``: change a job's hyperparameters between runs."""
    return write_hyperparameters


@pytest.fixture
def subprocess_env() -> Callable[..., dict[str, str]]:
    """``subprocess_env(base, **extra)``: a clean environment for a run rooted at ``base``."""
    return clean_environ


TRAIN_COMMAND = [sys.executable, "-m", "training"]


@pytest.fixture
def train_command() -> list[str]:
    """How the tests start the trainer in a subprocess (``python -m training``)."""
    return list(TRAIN_COMMAND)


@dataclass(frozen=True)
class TrainedJob:
    base: Path
    log: str

    @property
    def model_dir(self) -> Path:
        return self.base / "model"


@pytest.fixture(scope="session")
def trained_job(tmp_path_factory: pytest.TempPathFactory, digits_channels: Path) -> TrainedJob:
    """A job trained by ``python -m training`` (the example) with string hyperparameters and no SM_*."""
    base = write_base_dir(tmp_path_factory.mktemp("trained"), digits_channels,
                          {"epochs": "6", "lr": "0.003", "hidden_sizes": "64,32", "seed": "7"})
    result = subprocess.run(TRAIN_COMMAND, env=clean_environ(base), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return TrainedJob(base, result.stdout)
