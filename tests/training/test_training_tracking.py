"""MLflow tracking over the REST API, against a recording server on 127.0.0.1 that checks request shapes
as MLflow's REST API documents them (experiments/get-by-name, experiments/create, runs/create,
runs/log-batch, runs/update, and the mlflow-artifacts proxy)."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from training import tracking

API = "/api/2.0/mlflow"


def _is_kv_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(t, dict) and set(t) == {"key", "value"} and isinstance(t["key"], str)
        and isinstance(t["value"], str) for t in value)


class Recorder(ThreadingHTTPServer):
    """A minimal MLflow tracking server: answers like the real one, refuses malformed requests."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.experiments: dict[str, str] = {}
        self.artifacts: dict[str, bytes] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _bad(self, why: str) -> None:
        self.server.problems.append(f"{self.command} {self.path}: {why}")
        self._answer(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": why})

    def _record(self) -> tuple[str, dict[str, Any], bytes]:
        url = urllib.parse.urlparse(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = urllib.parse.parse_qs(url.query)
        self.server.requests.append({"method": self.command, "path": url.path, "query": query,
                                     "headers": dict(self.headers.items()), "body": raw})
        return url.path, query, raw

    def do_GET(self) -> None:
        path, query, _ = self._record()
        if path != f"{API}/experiments/get-by-name" or list(query) != ["experiment_name"]:
            return self._bad("unknown GET")
        name = query["experiment_name"][0]
        if name not in self.server.experiments:
            return self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST",
                                      "message": f"Could not find experiment with name '{name}'"})
        return self._answer(200, {"experiment": {"experiment_id": self.server.experiments[name], "name": name}})

    def do_PUT(self) -> None:
        path, _, raw = self._record()
        prefix = "/api/2.0/mlflow-artifacts/artifacts/"
        if not path.startswith(prefix):
            return self._bad("unknown PUT")
        self.server.artifacts[path.removeprefix(prefix)] = raw
        return self._answer(200, {})

    def do_POST(self) -> None:
        path, _, raw = self._record()
        if self.headers.get("Content-Type") != "application/json":
            return self._bad("Content-Type must be application/json")
        body = json.loads(raw)
        if path == f"{API}/experiments/create":
            if set(body) != {"name"} or not isinstance(body["name"], str):
                return self._bad("experiments/create takes a name")
            self.server.experiments[body["name"]] = str(len(self.server.experiments) + 1)
            return self._answer(200, {"experiment_id": self.server.experiments[body["name"]]})
        if path == f"{API}/runs/create":
            if not (isinstance(body.get("experiment_id"), str) and isinstance(body.get("start_time"), int)
                    and _is_kv_list(body.get("tags", [])) and set(body) <= {"experiment_id", "start_time", "tags",
                                                                             "run_name"}):
                return self._bad("runs/create shape")
            info = {"run_id": "run-1", "experiment_id": body["experiment_id"], "status": "RUNNING",
                    "artifact_uri": f"mlflow-artifacts:/{body['experiment_id']}/run-1/artifacts"}
            return self._answer(200, {"run": {"info": info, "data": {}}})
        if path == f"{API}/runs/log-batch":
            metrics, params = body.get("metrics", []), body.get("params", [])
            shaped = all(set(m) == {"key", "value", "timestamp", "step"} and isinstance(m["value"], float)
                         and isinstance(m["timestamp"], int) and isinstance(m["step"], int) for m in metrics)
            if body.get("run_id") != "run-1" or not shaped or not _is_kv_list(params) or len(params) > 100:
                return self._bad("runs/log-batch shape")
            return self._answer(200, {})
        if path == f"{API}/runs/update":
            if body.get("run_id") != "run-1" or body.get("status") not in ("FINISHED", "FAILED", "KILLED") \
                    or not isinstance(body.get("end_time"), int):
                return self._bad("runs/update shape")
            return self._answer(200, {"run_info": {"run_id": "run-1", "status": body["status"]}})
        return self._bad("unknown POST")


@pytest.fixture
def mlflow_server() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fresh_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking, "_run", None)
    monkeypatch.setattr(tracking, "_disabled", False)


def _bodies(server: Recorder, path: str) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in server.calls(path)]


def test_a_training_job_logs_params_metrics_and_the_model_card(mlflow_server: Recorder, base_dir,
                                                                subprocess_env, train_command) -> None:
    base = base_dir({"epochs": "2", "hidden_sizes": "32", "seed": "5"})
    env = subprocess_env(base, MLFLOW_TRACKING_URI=mlflow_server.url, MLFLOW_EXPERIMENT_NAME="digits",
                         TRAINING_JOB_NAME="digits-2026-11-22")
    result = subprocess.run(train_command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert mlflow_server.problems == []
    assert _bodies(mlflow_server, f"{API}/experiments/create") == [{"name": "digits"}]
    (created,) = _bodies(mlflow_server, f"{API}/runs/create")
    assert created["experiment_id"] == "1" and created["run_name"] == "digits-2026-11-22"
    assert {t["key"]: t["value"] for t in created["tags"]} == {
        "mlp.training_job_name": "digits-2026-11-22", "mlp.entry_point": "training.examples.digits"}

    batches = _bodies(mlflow_server, f"{API}/runs/log-batch")
    params = {p["key"]: p["value"] for b in batches for p in b.get("params", [])}
    assert params == {"epochs": "2", "batch_size": "64", "lr": "0.001", "weight_decay": "0.0", "optimizer": "adam",
                      "momentum": "0.9", "hidden_sizes": "[32]", "dropout": "0.1", "seed": "5",
                      "label_column": "label", "feature_columns": "[]"}
    history = json.loads((base / "output" / "data" / "metrics.json").read_text())
    logged = [(m["step"], m["key"], m["value"]) for b in batches for m in b.get("metrics", [])]
    assert logged == [(epoch, key, value) for epoch, values in enumerate(history, start=1)
                      for key, value in values.items()]

    card = (base / "model" / "model_card.json").read_text()
    assert mlflow_server.artifacts == {"1/run-1/artifacts/model_card.json": card.encode()}
    assert [b["status"] for b in _bodies(mlflow_server, f"{API}/runs/update")] == ["FINISHED"]


def test_an_unreachable_server_does_not_fail_training(base_dir, subprocess_env, train_command) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = base_dir({"epochs": "1"})
    env = subprocess_env(base, MLFLOW_TRACKING_URI=f"http://127.0.0.1:{port}")
    result = subprocess.run(train_command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING MLflow tracking is off for the rest of this job: GET /api/2.0/mlflow/experiments/get-by-name:" \
        in result.stdout
    assert (base / "model" / "model.pt").is_file()


@pytest.mark.usefixtures("fresh_tracking")
def test_without_a_tracking_uri_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking.log_params({"lr": 0.1})
    tracking.log_metrics({"loss": 1.0}, step=1)
    tracking.end("FINISHED")
    assert tracking._active() is None


@pytest.mark.usefixtures("fresh_tracking")
def test_sagemaker_tracking_server_requests_are_signed_for_sagemaker_mlflow(
        mlflow_server: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/platform-dev"
    for name, value in {"MLFLOW_TRACKING_URI": arn, "SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT": mlflow_server.url,
                        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                        "AWS_SESSION_TOKEN": "token", "TRAINING_JOB_NAME": ""}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    tracking.log_metrics({"validation_accuracy": 0.97}, step=3)
    tracking.end("KILLED")
    assert mlflow_server.problems == []
    assert [r["path"] for r in mlflow_server.requests] == [
        f"{API}/experiments/get-by-name", f"{API}/experiments/create", f"{API}/runs/create", f"{API}/runs/log-batch",
        f"{API}/runs/update"]
    assert _bodies(mlflow_server, f"{API}/experiments/create") == [{"name": "Default"}]
    for request in mlflow_server.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["x-mlflow-sm-tracking-server-arn"] == arn
        assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        assert "/eu-west-1/sagemaker-mlflow/aws4_request" in headers["authorization"]
        assert headers["x-amz-security-token"] == "token" and len(headers["x-amz-content-sha256"]) == 64
    assert [b["status"] for b in _bodies(mlflow_server, f"{API}/runs/update")] == ["KILLED"]


@pytest.mark.usefixtures("fresh_tracking")
def test_a_bad_tracking_uri_is_a_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                                         tmp_path: Path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "mlruns"))
    monkeypatch.setattr(tracking.log, "propagate", True)  # job.configure_logging may have turned it off
    tracking.log_params({"lr": 0.1})
    assert "is neither http(s):// nor a SageMaker tracking server ARN" in caplog.text
