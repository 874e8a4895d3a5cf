"""Server settings: SageMaker's environment variables, our own `SERVING_*` ones, and CLI flags.

Precedence: command-line flag > environment variable > default. The resolved settings are handed to
worker processes through one environment variable (`SERVING_SETTINGS_JSON`), so every worker sees
exactly what the parent resolved.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

SETTINGS_ENV = "SERVING_SETTINGS_JSON"
Number = TypeVar("Number", int, float)
MB = 1024 * 1024


def available_cpus() -> int:
    """Cores this process may run on (honours CPU affinity / cgroup cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Settings:
    """Everything the server needs, resolved once in the parent process."""

    model_dir: str = "/opt/ml/model"
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 1
    torch_threads: int = 1
    program: str = "inference.py"
    max_body_bytes: int = 6 * MB
    max_batch_size: int = 1
    max_batch_delay_ms: float = 5.0
    keepalive_s: int = 60
    graceful_timeout_s: int = 25
    model_wait_s: float = 60.0
    log_level: str = "info"
    metrics_dir: str = ""

    @property
    def batching(self) -> bool:
        """Micro-batching is on when more than one row may share a forward pass."""
        return self.max_batch_size > 1

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return cls(**json.loads(text))


def _env_number(env: Mapping[str, str], name: str, default: Number, kind: type[Number]) -> Number:
    """The ``kind`` (int or float) in environment variable ``name``; ``default`` when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not {'an integer' if kind is int else 'a number'}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="serve",
        description="SageMaker-compatible PyTorch inference server (GET /ping, POST /invocations, GET /metrics).",
    )
    p.add_argument("command", nargs="?", choices=["serve"], help="ignored: SageMaker starts containers with `serve`")
    p.add_argument("--model-dir", help="model directory [$SAGEMAKER_BASE_DIR/model, default /opt/ml/model]")
    p.add_argument("--host", help="bind address [$SERVING_HOST, default 0.0.0.0]")
    p.add_argument("--port", type=int, help="port [$SAGEMAKER_BIND_TO_PORT, default 8080]")
    p.add_argument(
        "--workers", type=int, help="worker processes [$SAGEMAKER_MODEL_SERVER_WORKERS, default: one per core]"
    )
    p.add_argument(
        "--max-batch-size",
        type=int,
        help="rows per forward pass; >1 turns on micro-batching [$SERVING_MAX_BATCH_SIZE, default 1]",
    )
    p.add_argument(
        "--max-batch-delay-ms", type=float, help="longest wait to fill a batch [$SERVING_MAX_BATCH_DELAY_MS, default 5]"
    )
    p.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="[$SERVING_LOG_LEVEL, default info]"
    )
    return p


def resolve(argv: list[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Resolve settings from flags and environment; exits with a message on invalid values."""
    env = dict(os.environ if env is None else env)
    args = parser().parse_args(argv)
    cpus = available_cpus()

    base_dir = env.get("SAGEMAKER_BASE_DIR", "").strip() or "/opt/ml"
    model_dir = args.model_dir or str(Path(base_dir) / "model")
    workers = args.workers
    if workers is None:
        workers = _env_number(env, "SAGEMAKER_MODEL_SERVER_WORKERS", cpus, int)
    default_threads = max(1, cpus // max(1, workers))
    settings = Settings(
        model_dir=str(Path(model_dir).resolve()),
        host=args.host or env.get("SERVING_HOST", "").strip() or "0.0.0.0",
        port=args.port if args.port is not None else _env_number(env, "SAGEMAKER_BIND_TO_PORT", 8080, int),
        workers=workers,
        torch_threads=_env_number(env, "SERVING_TORCH_THREADS", default_threads, int),
        program=env.get("SAGEMAKER_PROGRAM", "").strip() or "inference.py",
        max_body_bytes=_env_number(env, "SERVING_MAX_BODY_BYTES", 6 * MB, int),
        max_batch_size=(
            args.max_batch_size
            if args.max_batch_size is not None
            else _env_number(env, "SERVING_MAX_BATCH_SIZE", 1, int)
        ),
        max_batch_delay_ms=(
            args.max_batch_delay_ms
            if args.max_batch_delay_ms is not None
            else _env_number(env, "SERVING_MAX_BATCH_DELAY_MS", 5.0, float)
        ),
        keepalive_s=_env_number(env, "SERVING_KEEPALIVE_S", 60, int),
        graceful_timeout_s=_env_number(env, "SERVING_GRACEFUL_TIMEOUT_S", 25, int),
        model_wait_s=_env_number(env, "SERVING_MODEL_WAIT_S", 60.0, float),
        log_level=(args.log_level or env.get("SERVING_LOG_LEVEL", "").strip() or "info").lower(),
    )
    problems = []
    if not 0 < settings.port < 65536:
        problems.append(f"port {settings.port} is out of range")
    if settings.workers < 1:
        problems.append("workers must be >= 1")
    if settings.torch_threads < 1:
        problems.append("SERVING_TORCH_THREADS must be >= 1")
    if settings.max_batch_size < 1:
        problems.append("max batch size must be >= 1")
    if settings.max_batch_delay_ms < 0:
        problems.append("max batch delay must be >= 0")
    if settings.max_body_bytes < 1:
        problems.append("SERVING_MAX_BODY_BYTES must be >= 1")
    if settings.log_level not in ("debug", "info", "warning", "error"):
        problems.append(f"unknown log level {settings.log_level!r}")
    if problems:
        raise SystemExit("serve: " + "; ".join(problems))
    return settings


def from_environment() -> Settings:
    """Settings in a worker process: exactly what the parent (`serve`) resolved and handed down."""
    raw = os.environ.get(SETTINGS_ENV, "").strip()
    if not raw:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start the server with `serve`, which resolves the "
                           "settings once and hands them to its workers")
    try:
        return Settings.from_json(raw)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(f"{SETTINGS_ENV} does not hold settings written by `serve` ({exc})") from None
