"""Settings resolution, cross-process metrics aggregation, and TCP_NODELAY, in-process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from serving import config, metrics
from serving.config import MB, Settings, resolve
from serving.server import NoDelayHttpToolsProtocol


def test_defaults_follow_the_sagemaker_contract() -> None:
    s = resolve([], env={})
    assert (s.model_dir, s.port, s.host, s.max_body_bytes) == ("/opt/ml/model", 8080, "0.0.0.0", 6 * MB)
    assert s.workers == len(os.sched_getaffinity(0))
    assert not s.batching


def test_environment_then_flags(tmp_path: Path) -> None:
    env = {
        "SAGEMAKER_BASE_DIR": str(tmp_path),
        "SAGEMAKER_BIND_TO_PORT": "9000",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
        "SERVING_MAX_BATCH_SIZE": "16",
        "SERVING_MAX_BATCH_DELAY_MS": "2.5",
        "SAGEMAKER_PROGRAM": "handler.py",
    }
    s = resolve([], env=env)
    assert (s.model_dir, s.port, s.workers, s.max_batch_size, s.max_batch_delay_ms, s.program) == (
        str(tmp_path / "model"),
        9000,
        3,
        16,
        2.5,
        "handler.py",
    )
    s = resolve(["serve", "--port", "9100", "--workers", "1", "--model-dir", str(tmp_path)], env=env)
    assert (s.port, s.workers, s.model_dir, s.torch_threads) == (9100, 1, str(tmp_path), len(os.sched_getaffinity(0)))
    assert Settings.from_json(s.to_env()) == s


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        ([], {"SAGEMAKER_BIND_TO_PORT": "eighty"}),
        (["--workers", "0"], {}),
        (["train"], {}),
        ([], {"SERVING_MAX_BATCH_SIZE": "0"}),
    ],
)
def test_invalid_settings_exit_with_a_message(argv: list[str], env: dict[str, str]) -> None:
    with pytest.raises(SystemExit):
        resolve(argv, env=env)


def test_workers_take_the_parents_settings_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = config.Settings(model_dir="/models/a", port=9000, max_batch_size=8)
    monkeypatch.setenv(config.SETTINGS_ENV, settings.to_env())
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "7000")  # a worker never re-resolves the raw environment
    assert config.from_environment() == settings
    monkeypatch.delenv(config.SETTINGS_ENV)
    with pytest.raises(RuntimeError, match="SERVING_SETTINGS_JSON is not set: start the server with `serve`"):
        config.from_environment()
    monkeypatch.setenv(config.SETTINGS_ENV, '{"port": 1, "colour": "red"}')
    with pytest.raises(RuntimeError, match="does not hold settings written by `serve`"):
        config.from_environment()


def test_serve_help_runs_as_a_console_script() -> None:
    serve = Path(sys.executable).parent / "serve"
    out = subprocess.run([str(serve), "--help"], capture_output=True, text=True, check=True).stdout
    assert "SAGEMAKER_BIND_TO_PORT" in out and "--max-batch-size" in out


def _parse(text: str) -> dict[str, float]:
    return {
        m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+) (\S+)$", text, re.MULTILINE) if m.group(1) != "#"
    }


def test_metrics_are_summed_across_workers_and_keep_dead_workers_counts(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    live, gone = metrics.Metrics(tmp_path), metrics.Metrics(tmp_path, pid=int(dead.stdout))
    for m in (live, gone):
        m.count_request("/invocations", 200)
        m.observe_latency(0.0004)
        m.observe_batch(3)
    live.count_request("/invocations", 400)
    live.count_request("/elsewhere", 404)
    live.observe_latency(7.0)
    live.set_model_loaded(True)
    gone.set_model_loaded(False)  # dead: its gauge no longer counts

    values = _parse(live.render().decode())
    assert values['serving_requests_total{path="/invocations",status="200"}'] == 2
    assert values['serving_requests_total{path="/invocations",status="400"}'] == 1
    assert values['serving_requests_total{path="other",status="404"}'] == 1
    assert values['serving_request_duration_seconds_bucket{le="0.00025"}'] == 0
    assert values['serving_request_duration_seconds_bucket{le="0.0005"}'] == 2
    assert values['serving_request_duration_seconds_bucket{le="5"}'] == 2
    assert values['serving_request_duration_seconds_bucket{le="10"}'] == 3
    assert values['serving_request_duration_seconds_bucket{le="+Inf"}'] == 3
    assert values["serving_request_duration_seconds_count"] == 3
    assert values["serving_request_duration_seconds_sum"] == pytest.approx(7.0008)
    assert values['serving_batch_size_bucket{le="2"}'] == 0
    assert values['serving_batch_size_bucket{le="4"}'] == 2
    assert values["serving_batch_size_sum"] == 6
    assert values["serving_workers"] == 1
    assert values["serving_model_loaded"] == 1
    live.set_model_loaded(False)
    assert _parse(live.render().decode())["serving_model_loaded"] == 0
    live.close()
    gone.close()


def test_the_protocol_turns_nagle_off() -> None:
    seen: list[int] = []

    class Probe(NoDelayHttpToolsProtocol):
        def connection_made(self, transport) -> None:  # noqa: ANN001
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)  # as if the loop had left Nagle on
            super().connection_made(transport)
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(app, host="127.0.0.1", port=0, http=Probe, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 204
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert seen == [1]


def test_exposition_parses_with_the_reference_prometheus_parser(tmp_path: Path) -> None:
    """What Prometheus scrapes: every family parses with prometheus-client's own parser, typed right."""
    from prometheus_client.parser import text_string_to_metric_families

    worker = metrics.Metrics(tmp_path)
    worker.count_request("/invocations", 200)
    worker.observe_latency(0.003)
    worker.observe_batch(4)
    worker.set_model_loaded(True)
    families = {f.name: f for f in text_string_to_metric_families(worker.render().decode())}
    worker.close()
    assert families["serving_requests"].type == "counter"
    assert families["serving_request_duration_seconds"].type == "histogram"
    assert families["serving_batch_size"].type == "histogram"
    assert families["serving_model_loaded"].type == "gauge"
    (sample,) = [s for s in families["serving_requests"].samples if s.name == "serving_requests_total"]
    assert sample.labels == {"path": "/invocations", "status": "200"} and sample.value == 1
    buckets = [s for s in families["serving_request_duration_seconds"].samples if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 1
