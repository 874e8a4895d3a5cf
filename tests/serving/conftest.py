"""Fixtures for the serving tests: small TorchScript model dirs and real server processes.

Test modules get the helpers through the `kit` fixture rather than `import conftest` (several test
directories have a conftest.py, so that module name is ambiguous).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import torch

SERVE = Path(sys.executable).parent / "serve"
BOOT_TIMEOUT_S = 90  # workers import torch; generous for a loaded 2-core CI box


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_linear_model(model_dir: Path) -> Path:
    """TorchScript Linear(3 -> 2) with fixed weights: y = [x0, x1 + x2 + 0.5]."""
    model_dir.mkdir(parents=True, exist_ok=True)
    linear = torch.nn.Linear(3, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
        linear.bias.copy_(torch.tensor([0.0, 0.5]))
    torch.jit.script(linear).save(str(model_dir / "model.pt"))
    return model_dir


def expected(rows: list[list[float]]) -> list[list[float]]:
    return [[r[0], r[1] + r[2] + 0.5] for r in rows]


def write_code(model_dir: Path, source: str) -> None:
    code = model_dir / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "inference.py").write_text(textwrap.dedent(source))


class Server:
    """A real `serve` process on a free 127.0.0.1 port, logging to a file."""

    def __init__(
        self,
        model_dir: Path,
        log_path: Path,
        *,
        workers: int = 1,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        module: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        launcher = [sys.executable, "-m", "serving"] if module else [str(SERVE)]
        cmd = [
            *launcher,
            "serve",
            "--model-dir",
            str(model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            *args,
        ]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVING_", "SAGEMAKER_"))}
        full_env.update({"PYTHONUNBUFFERED": "1", **(env or {})})
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, predicate, what: str, timeout: float = BOOT_TIMEOUT_S) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}) before {what}:\n{self.log()}")
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()}")

    def ping_status(self) -> int | None:
        try:
            return httpx.get(self.url + "/ping", timeout=5).status_code
        except httpx.TransportError:
            return None

    def wait_listening(self) -> None:
        self.wait_until(lambda: self.ping_status() is not None, "the port to answer")

    def wait_ready(self) -> None:
        self.wait_until(lambda: self.ping_status() == 200, "/ping 200")

    def stop(self) -> int:
        """SIGTERM, wait, and SIGKILL our own process group only if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:  # workers left behind by a parent that died
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Server, save_linear_model, expected, write_code, free_port."""
    return SimpleNamespace(
        Server=Server,
        save_linear_model=save_linear_model,
        expected=expected,
        write_code=write_code,
        free_port=free_port,
    )


@pytest.fixture(scope="session")
def linear_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_linear_model(tmp_path_factory.mktemp("linear-model"))


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator:
    """Factory: start_server(model_dir, **kwargs) -> Server; every server is stopped afterwards."""
    servers: list[Server] = []

    def start(model_dir: Path, **kwargs) -> Server:  # noqa: ANN003
        server = Server(model_dir, tmp_path / f"server-{len(servers)}.log", **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
