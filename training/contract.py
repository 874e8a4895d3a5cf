"""The SageMaker training container contract: where inputs and outputs live, and the ``SM_*`` view.

SageMaker itself only provides files under ``/opt/ml`` (relocated by ``SAGEMAKER_BASE_DIR``). The
``SM_*`` variables come from the sagemaker-training toolkit; when present they win, when absent the
same values are derived from the files, so the image behaves the same with or without the toolkit.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.errors import ConfigError

DEFAULT_BASE_DIR = "/opt/ml"
DEFAULT_HOST = "algo-1"


@dataclass(frozen=True)
class Paths:
    """The fixed layout under the base directory."""

    base: Path

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Paths:
        return cls(Path(environ.get("SAGEMAKER_BASE_DIR") or DEFAULT_BASE_DIR))

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def inputdataconfig_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resourceconfig_file(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def checkpoint_dir(self) -> Path:
        return self.base / "checkpoints"


def failure_file(environ: Mapping[str, str]) -> Path:
    """Where the failure reason goes; resolvable even when nothing else in the config is valid."""
    output_dir = environ.get("SM_OUTPUT_DIR")
    return Path(output_dir) / "failure" if output_dir else Paths.from_environ(environ).output_dir / "failure"


@dataclass(frozen=True)
class Channel:
    """One input channel as SageMaker mounted it."""

    name: str
    path: Path
    content_type: str | None = None
    input_mode: str = "File"
    distribution: str = "FullyReplicated"


@dataclass(frozen=True)
class TrainingEnv:
    """Everything the trainer needs to know about its job, resolved once at start-up."""

    paths: Paths
    model_dir: Path
    output_dir: Path
    output_data_dir: Path
    checkpoint_dir: Path
    failure_file: Path
    hyperparameters: dict[str, Any]
    channels: dict[str, Channel]
    hosts: tuple[str, ...]
    current_host: str
    network_interface_name: str | None
    num_gpus: int | None
    job_name: str | None


def _read_json(path: Path, what: str, default: Any) -> Any:
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON ({exc}).") from exc


def _env_json(environ: Mapping[str, str], name: str) -> Any | None:
    raw = environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"environment variable {name} is not valid JSON ({exc}).") from exc


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be a JSON object, got {type(value).__name__}.")
    return value


def _channels(environ: Mapping[str, str], paths: Paths) -> dict[str, Channel]:
    config = _env_json(environ, "SM_INPUT_DATA_CONFIG")
    if config is None:
        config = _read_json(paths.inputdataconfig_file, "inputdataconfig.json", None)
    config = _mapping(config, "inputdataconfig.json")
    names: list[str] = list(config)
    if not names:
        listed = _env_json(environ, "SM_CHANNELS")
        if listed is not None:
            names = [str(n) for n in listed]
        elif paths.data_dir.is_dir():
            names = sorted(p.name for p in paths.data_dir.iterdir() if p.is_dir())
    channels = {}
    for name in names:
        spec = _mapping(config.get(name), f"inputdataconfig.json channel '{name}'")
        path = environ.get(f"SM_CHANNEL_{name.upper()}") or paths.data_dir / name
        channels[name] = Channel(
            name=name,
            path=Path(path),
            content_type=spec.get("ContentType"),
            input_mode=spec.get("TrainingInputMode", "File"),
            distribution=spec.get("S3DistributionType", "FullyReplicated"),
        )
    return channels


def _natural_key(host: str) -> list[Any]:
    """Sort ``algo-2`` before ``algo-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", host)]


def _hosts(environ: Mapping[str, str], paths: Paths) -> tuple[tuple[str, ...], str, str | None]:
    resource = _env_json(environ, "SM_RESOURCE_CONFIG")
    if resource is None:
        resource = _read_json(paths.resourceconfig_file, "resourceconfig.json", None)
    resource = _mapping(resource, "resourceconfig.json")
    hosts = _env_json(environ, "SM_HOSTS") or resource.get("hosts") or [DEFAULT_HOST]
    current = environ.get("SM_CURRENT_HOST") or resource.get("current_host") or hosts[0]
    interface = environ.get("SM_NETWORK_INTERFACE_NAME") or resource.get("network_interface_name")
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise ConfigError(f"resourceconfig.json 'hosts' must be a list of host names, got {hosts!r}.")
    if len(set(hosts)) != len(hosts):
        raise ConfigError(f"resourceconfig.json 'hosts' lists a host twice: {hosts!r}.")
    if current not in hosts:
        raise ConfigError(f"current_host '{current}' is not one of the hosts {hosts!r} in resourceconfig.json.")
    return tuple(sorted(hosts, key=_natural_key)), current, interface


def int_env(environ: Mapping[str, str], name: str) -> int | None:
    """The integer in environment variable ``name``, ``None`` when unset or empty."""
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}.") from None


def load_env(environ: Mapping[str, str] | None = None) -> TrainingEnv:
    """Resolve the job from ``SM_*`` variables where set, else from the files under the base dir."""
    environ = os.environ if environ is None else environ
    paths = Paths.from_environ(environ)
    hps = _env_json(environ, "SM_HPS")
    if hps is None:
        hps = _read_json(paths.hyperparameters_file, "hyperparameters.json", {})
    hosts, current, interface = _hosts(environ, paths)
    failure = failure_file(environ)
    return TrainingEnv(
        paths=paths,
        model_dir=Path(environ.get("SM_MODEL_DIR") or paths.model_dir),
        output_dir=failure.parent,
        output_data_dir=Path(environ.get("SM_OUTPUT_DATA_DIR") or paths.output_dir / "data"),
        checkpoint_dir=paths.checkpoint_dir,
        failure_file=failure,
        hyperparameters=_mapping(hps, "hyperparameters.json"),
        channels=_channels(environ, paths),
        hosts=hosts,
        current_host=current,
        network_interface_name=interface,
        num_gpus=int_env(environ, "SM_NUM_GPUS"),
        job_name=environ.get("TRAINING_JOB_NAME") or None,
    )
