"""The user's entry point: where its code comes from, the environment it sees, and running it.

As the sagemaker-training toolkit does it:

* **Code**: ``sagemaker_submit_directory`` (hyperparameter; or ``--submit-dir``, or the
  ``SAGEMAKER_SUBMIT_DIRECTORY`` variable) is a local directory (run in place), a local ``.tar.gz``
  or an ``s3://`` URI of one (extracted into ``$SAGEMAKER_BASE_DIR/code``). Without it, the code is
  ``$SAGEMAKER_BASE_DIR/code`` when that exists.
* **Program**: ``sagemaker_program`` (or ``--entry-point``, or ``SAGEMAKER_PROGRAM``): ``name.py`` runs
  as ``python name.py``, ``name.sh`` as ``/bin/sh name.sh``, anything else as a module, ``python -m
  name``, with the code directory first on ``PYTHONPATH`` and as the working directory. Without one,
  the built-in example ``training.examples.digits`` runs.
* **Arguments**: the user hyperparameters (everything but ``sagemaker_*`` and ``_*``), decoded, as
  ``--name value`` pairs sorted by name.
* **Environment**: ``SM_*`` variables named and formatted as the toolkit's (strings as they are,
  everything else as compact JSON with sorted keys).
"""

from __future__ import annotations

import collections
import glob
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from training import hyperparameters
from training.contract import TrainingEnv
from training.errors import ConfigError

DEFAULT_MODULE = "training.examples.digits"
STDERR_TAIL_LINES = 20
log = logging.getLogger("training")


@dataclass(frozen=True)
class EntryPoint:
    """What to run: ``program`` from ``code_dir`` (``None``: an installed module), and its arguments."""

    program: str
    code_dir: Path | None
    args: tuple[str, ...]

    @property
    def kind(self) -> str:
        if self.program.endswith(".py"):
            return "script"
        if self.program.endswith(".sh"):
            return "shell"
        return "module"

    @property
    def command(self) -> list[str]:
        if self.kind == "script":
            return [sys.executable, self.program, *self.args]
        if self.kind == "shell":
            return ["/bin/sh", self.program, *self.args]
        return [sys.executable, "-m", self.program, *self.args]


def _pick(flag: str | None, reserved: Mapping[str, Any], name: str, environ: Mapping[str, str]) -> str | None:
    for value in (flag, reserved.get(name), environ.get(name.upper())):
        if value not in (None, ""):
            return str(value)
    return None


def _extract(archive: Path, into: Path) -> Path:
    if into.exists():
        shutil.rmtree(into)  # code from an earlier run of this base dir must not mix with this one's
    into.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ConfigError(f"submit directory archive {archive} cannot be extracted ({exc}).") from None
    return into


def _download(uri: str, into: Path) -> Path:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    target = into.with_name(f".{into.name}.tar.gz")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        boto3.client("s3", endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None).download_file(
            bucket, key, str(target))
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"submit directory {uri} cannot be downloaded ({exc}).") from None
    try:
        return _extract(target, into)
    finally:
        target.unlink(missing_ok=True)


def code_dir(submit_dir: str | None, env: TrainingEnv) -> Path | None:
    """The directory holding the user's code, fetched or extracted if need be."""
    default = env.paths.base / "code"
    if submit_dir is None:
        return default if default.is_dir() else None
    if submit_dir.startswith("s3://"):
        return _download(submit_dir, default)
    path = Path(submit_dir.removeprefix("file://")).resolve()
    if path.is_dir():
        return path
    if path.is_file():
        return _extract(path, default)
    raise ConfigError(f"submit directory {submit_dir} does not exist (sagemaker_submit_directory: a directory, "
                      "a .tar.gz, or an s3:// URI of one).")


def resolve(env: TrainingEnv, entry_point: str | None = None, submit_dir: str | None = None,
            environ: Mapping[str, str] | None = None) -> EntryPoint:
    """Find the user's program and code from flags, reserved hyperparameters and the environment."""
    environ = os.environ if environ is None else environ
    user, reserved = hyperparameters.split_reserved(hyperparameters.decode(env.hyperparameters))
    program = _pick(entry_point, reserved, hyperparameters.PROGRAM, environ)
    code = code_dir(_pick(submit_dir, reserved, hyperparameters.SUBMIT_DIRECTORY, environ), env)
    args = tuple(hyperparameters.to_cmd_args(user))
    if program is None:
        return EntryPoint(DEFAULT_MODULE, None, args)
    if program.endswith((".py", ".sh")):
        where = code or Path.cwd()
        if not (where / program).is_file():
            raise ConfigError(f"entry point {program} not found in {where} (sagemaker_program names a file "
                              "of the submit directory, sagemaker_submit_directory).")
    return EntryPoint(program, code, args)


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def num_gpus(env: TrainingEnv) -> int:
    """``SM_NUM_GPUS`` if set, else the NVIDIA devices the container sees (without importing torch)."""
    return env.num_gpus if env.num_gpus is not None else len(glob.glob("/dev/nvidia[0-9]*"))


def sm_variables(env: TrainingEnv, entry: EntryPoint) -> dict[str, str]:
    """The ``SM_*`` variables the toolkit sets for the user's process, for this job and entry point."""
    user, _ = hyperparameters.split_reserved(hyperparameters.decode(env.hyperparameters))
    resource_config: dict[str, Any] = {"current_host": env.current_host, "hosts": list(env.hosts)}
    if env.network_interface_name:
        resource_config["network_interface_name"] = env.network_interface_name
    values: dict[str, Any] = {
        "model_dir": str(env.model_dir),
        "channels": sorted(env.channels),
        "hps": user,
        "hosts": list(env.hosts),
        "current_host": env.current_host,
        "network_interface_name": env.network_interface_name,
        "num_gpus": num_gpus(env),
        "num_cpus": len(os.sched_getaffinity(0)),
        "input_dir": str(env.paths.base / "input"),
        "input_config_dir": str(env.paths.config_dir),
        "input_data_config": {
            name: {k: v for k, v in (("ContentType", c.content_type), ("TrainingInputMode", c.input_mode),
                                     ("S3DistributionType", c.distribution)) if v is not None}
            for name, c in env.channels.items()},
        "resource_config": resource_config,
        "output_dir": str(env.output_dir),
        "output_data_dir": str(env.output_data_dir),
        "output_intermediate_dir": str(env.output_dir / "intermediate"),
        "user_entry_point": entry.program,
        "module_name": entry.program.removesuffix(".py").removesuffix(".sh"),
        "module_dir": str(entry.code_dir or ""),
        "user_args": list(entry.args),
        "log_level": logging.INFO,
    }
    values["training_env"] = dict(values)
    values.update({f"channel_{name}": str(channel.path) for name, channel in env.channels.items()})
    values.update({f"hp_{name}": value for name, value in user.items()})
    return {f"SM_{key.upper()}": _format(value) for key, value in values.items()}


@dataclass(frozen=True)
class Result:
    returncode: int
    stderr_tail: str


def _tee(stream: IO[bytes], tail: collections.deque[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        sys.stderr.write(line)
        sys.stderr.flush()
        tail.append(line)


def run(entry: EntryPoint, env: TrainingEnv) -> Result:
    """Run the entry point to completion, forwarding SIGTERM to it and passing its output through."""
    child_env = {**os.environ, **sm_variables(env, entry)}
    if entry.code_dir is not None:
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(entry.code_dir), os.environ.get("PYTHONPATH", "")) if p)
    log.info("running %s %s", entry.kind, " ".join(entry.command[1:]))
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    in_main = threading.current_thread() is threading.main_thread()
    try:
        process = subprocess.Popen(entry.command, env=child_env, cwd=entry.code_dir, stderr=subprocess.PIPE)
    except OSError as exc:
        raise ConfigError(f"entry point {entry.program} cannot be started ({exc}).") from None
    previous = {}
    if in_main:  # the child checkpoints on SIGTERM; Ctrl-C reaches it through the terminal's process group
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, lambda signum, _: process.send_signal(signum))
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert process.stderr is not None
        reader = threading.Thread(target=_tee, args=(process.stderr, tail), daemon=True)
        reader.start()
        returncode = process.wait()
        reader.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return Result(returncode, "".join(tail))
