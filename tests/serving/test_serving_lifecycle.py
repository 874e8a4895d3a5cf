"""Start-up failure and graceful drain on SIGTERM, against real server processes."""

from __future__ import annotations

import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

pytestmark = pytest.mark.slow

FAILING_MODEL_FN = """
    def model_fn(model_dir):
        raise RuntimeError("weights are corrupt")
"""

GATED_PREDICT_FN = """
    import os
    import time
    from pathlib import Path

    import torch


    def predict_fn(data, model):
        Path(os.environ["TEST_STARTED"]).touch()
        release = Path(os.environ["TEST_RELEASE"])
        while not release.exists():  # in flight until the test releases it
            time.sleep(0.05)
        with torch.inference_mode():
            return model(data)
"""


def test_a_model_that_fails_to_load_keeps_ping_503_and_logs_why(
    kit: SimpleNamespace, tmp_path: Path, start_server
) -> None:
    model_dir = tmp_path / "model"
    kit.write_code(model_dir, FAILING_MODEL_FN)
    server = start_server(model_dir)
    server.wait_until(lambda: "weights are corrupt" in server.log(), "the failure in the log")
    log = server.log()
    assert "model failed to load" in log and "Traceback" in log
    for _ in range(3):
        ping = httpx.get(server.url + "/ping")
        assert ping.status_code == 503
        assert ping.json() == {"status": "failed", "reason": "RuntimeError: weights are corrupt"}
    response = httpx.post(server.url + "/invocations", json=[[1, 2, 3]])
    assert response.status_code == 503
    assert "weights are corrupt" in response.json()["error"]
    assert server.proc.poll() is None  # still up, answering 503


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_in_flight_requests_and_exits_0(
    kit: SimpleNamespace, linear_model_dir: Path, tmp_path: Path, start_server, workers: int
) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(linear_model_dir, model_dir)
    kit.write_code(model_dir, GATED_PREDICT_FN)
    started, release = tmp_path / "started", tmp_path / "release"
    server = start_server(model_dir, workers=workers, env={"TEST_STARTED": str(started), "TEST_RELEASE": str(release)})
    server.wait_ready()

    result: dict[str, httpx.Response] = {}
    request = threading.Thread(
        target=lambda: result.update(r=httpx.post(server.url + "/invocations", json=[[1, 2, 3]], timeout=60))
    )
    request.start()
    server.wait_until(started.exists, "the request to be in flight")

    server.proc.send_signal(signal.SIGTERM)
    server.wait_until(lambda: _refused(server.port), "the listening socket to close")
    assert request.is_alive()  # still in flight while the server stopped accepting
    release.touch()
    request.join(timeout=60)

    assert result["r"].status_code == 200
    assert result["r"].json() == [[1.0, 5.5]]
    deadline = time.monotonic() + 30
    while server.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.proc.returncode == 0, server.log()
