"""The SageMaker file contract, with and without the toolkit's SM_* variables, and the rank topology."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch

from training import distributed
from training.contract import load_env
from training.errors import ConfigError
from training.signals import StopSignal


def _write(base: Path, name: str, value: object) -> None:
    path = base / "input" / "config" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def test_everything_derived_from_files(tmp_path: Path) -> None:
    _write(tmp_path, "hyperparameters.json", {"epochs": "4"})
    _write(tmp_path, "inputdataconfig.json", {"train": {"ContentType": "text/csv"}, "validation": {}})
    _write(tmp_path, "resourceconfig.json", {"current_host": "algo-2", "hosts": ["algo-10", "algo-2", "algo-1"],
                                             "network_interface_name": "eth0"})
    env = load_env({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert env.hyperparameters == {"epochs": "4"}
    assert env.channels["train"].path == tmp_path / "input" / "data" / "train"
    assert env.channels["train"].content_type == "text/csv" and env.channels["validation"].input_mode == "File"
    assert env.hosts == ("algo-1", "algo-2", "algo-10") and env.current_host == "algo-2"
    assert env.network_interface_name == "eth0" and env.num_gpus is None
    assert env.model_dir == tmp_path / "model" and env.output_data_dir == tmp_path / "output" / "data"
    assert env.checkpoint_dir == tmp_path / "checkpoints" and env.failure_file == tmp_path / "output" / "failure"


def test_defaults_without_any_config(tmp_path: Path) -> None:
    (tmp_path / "input" / "data" / "train").mkdir(parents=True)
    env = load_env({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert env.hyperparameters == {} and list(env.channels) == ["train"]
    assert env.hosts == ("algo-1",) and env.current_host == "algo-1"
    assert load_env({}).paths.base == Path("/opt/ml")


def test_sm_variables_win_over_files(tmp_path: Path) -> None:
    _write(tmp_path, "hyperparameters.json", {"epochs": "4"})
    _write(tmp_path, "resourceconfig.json", {"current_host": "algo-1", "hosts": ["algo-1"]})
    env = load_env({
        "SAGEMAKER_BASE_DIR": str(tmp_path), "SM_HPS": '{"epochs": 9}', "SM_CHANNELS": '["train"]',
        "SM_CHANNEL_TRAIN": "/data/train", "SM_MODEL_DIR": "/m", "SM_OUTPUT_DATA_DIR": "/o/data",
        "SM_OUTPUT_DIR": "/o", "SM_HOSTS": '["algo-1", "algo-2"]', "SM_CURRENT_HOST": "algo-2", "SM_NUM_GPUS": "0",
        "TRAINING_JOB_NAME": "job-1",
    })
    assert env.hyperparameters == {"epochs": 9}
    assert env.channels["train"].path == Path("/data/train") and list(env.channels) == ["train"]
    assert (env.model_dir, env.output_data_dir, env.failure_file) == (Path("/m"), Path("/o/data"), Path("/o/failure"))
    assert env.hosts == ("algo-1", "algo-2") and env.current_host == "algo-2"
    assert env.num_gpus == 0 and env.job_name == "job-1"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("hyperparameters.json", "{not json", "hyperparameters.json file"),
    ("resourceconfig.json", '{"current_host": "algo-3", "hosts": ["algo-1"]}', "current_host 'algo-3'"),
    ("resourceconfig.json", '{"current_host": "algo-1", "hosts": ["algo-1", "algo-1"]}', "twice"),
    ("inputdataconfig.json", "[1]", "must be a JSON object"),
])
def test_broken_config_files_are_named(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / "input" / "config" / name
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_env({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert message in str(info.value)


def _env(tmp_path: Path, current: str, hosts: list[str]):
    _write(tmp_path, "resourceconfig.json", {"current_host": current, "hosts": hosts})
    return load_env({"SAGEMAKER_BASE_DIR": str(tmp_path), "SM_NUM_GPUS": "0"})


def test_rank_from_resourceconfig(tmp_path: Path) -> None:
    env = _env(tmp_path, "algo-2", ["algo-2", "algo-1"])
    ctx = distributed.resolve(env, {})
    assert (ctx.rank, ctx.world_size, ctx.launcher, ctx.backend) == (1, 2, "resourceconfig", "gloo")
    assert ctx.init_method == "tcp://algo-1:29500" and ctx.device == torch.device("cpu")
    overridden = distributed.resolve(env, {"MASTER_ADDR": "10.0.0.5", "MASTER_PORT": "7777"})
    assert overridden.init_method == "tcp://10.0.0.5:7777"


def test_torchrun_variables_win(tmp_path: Path) -> None:
    env = _env(tmp_path, "algo-1", ["algo-1", "algo-2"])
    ctx = distributed.resolve(env, {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert (ctx.rank, ctx.world_size, ctx.local_rank, ctx.init_method) == (3, 4, 1, "env://")
    with pytest.raises(ConfigError, match="RANK"):
        distributed.resolve(env, {"RANK": "x", "WORLD_SIZE": "2"})


def test_single_host_is_not_distributed(tmp_path: Path) -> None:
    ctx = distributed.resolve(_env(tmp_path, "algo-1", ["algo-1"]), {})
    assert not ctx.enabled and ctx.is_main and ctx.init_method is None


def test_sigterm_is_recorded_not_fatal_while_entered() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with StopSignal() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == before
