"""The local target: the same container contracts on this machine, no Docker.

Training runs the training runtime in a subprocess with a temporary ``SAGEMAKER_BASE_DIR``, its
channels fetched from S3 and its model packed and put back to the team's models bucket. Serving runs
the ``serve`` runtime on 127.0.0.1 and a free port, in its own session so it outlives ``mlp deploy``;
its pid, port and package live in a state file, and ``stop`` (``mlp deploy --stop``) ends it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from platform_lib import bundle, guard, outputs, registry
from platform_lib.aws import Aws
from platform_lib.targets.base import (
    Deployment,
    DeployRequest,
    Progress,
    Target,
    TargetError,
    TrainingRequest,
    TrainingResult,
    quiet,
)

TRAIN_COMMAND = [sys.executable, "-m", "training", "train"]
SERVE_COMMAND = [sys.executable, "-m", "serving", "serve"]
READY_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30            # SageMaker's SIGTERM-to-SIGKILL grace for serving
TRAIN_STOP_TIMEOUT_S = 120     # ... and for training


def parse_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise TargetError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _terminate(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` — the containers' contract."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LocalTarget(Target):
    name = "local"

    def __init__(self, aws: Aws, state_dir: Path | None = None, tags: dict[str, str] | None = None,
                 warn: Progress = quiet):
        self.aws, self.tags, self.warn = aws, tags or {}, warn
        self.state_dir = state_dir or outputs.state_dir() / "local"
        self._children: dict[str, subprocess.Popen] = {}

    # ---- training -------------------------------------------------------------------------------

    def _download_prefix(self, uri: str, into: Path) -> int:
        bucket, prefix = parse_s3(uri)
        s3, count = self.aws.client("s3"), 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix):].lstrip("/") or Path(item["Key"]).name
                target = into / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
                count += 1
        if not count:
            raise TargetError(f"channel {uri} is empty: nothing under that prefix")
        return count

    def train(self, request: TrainingRequest, progress: Progress = quiet) -> TrainingResult:
        bucket, key_arn = outputs.models_location(request.team)
        planned_key = f"models/{request.model}/<sha256>/model.tar.gz"   # the one thing this creates in AWS
        guard.enforce([bundle.object_request(bucket, planned_key, key_arn, self.tags)], request.team.environment,
                      warn=self.warn)
        started = time.perf_counter()
        base = Path(tempfile.mkdtemp(prefix=f"mlp-{request.job_name}-"))
        try:
            hyperparameters = request.all_hyperparameters
            for channel, uri in request.channels.items():
                count = self._download_prefix(uri, base / "input" / "data" / channel)
                progress(f"channel {channel}: {count} file(s) from {uri}")
            if request.source_uri:
                bucket, key = parse_s3(request.source_uri)
                body = self.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
                bundle.unpack(body, base / "code")
                hyperparameters["sagemaker_submit_directory"] = json.dumps(str(base / "code"))
            config = base / "input" / "config"
            config.mkdir(parents=True)
            (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
            (config / "inputdataconfig.json").write_text(json.dumps({
                c: {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None"} for c in request.channels}))
            (config / "resourceconfig.json").write_text(json.dumps(
                {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"}))
            code = self._run_training(request, base, progress)
            if code != 0:
                failure = base / "output" / "failure"
                reason = failure.read_text().strip() if failure.is_file() else f"training exited with {code}"
                return TrainingResult(request.job_name, self.name, "Failed", None, failure_reason=reason,
                                      seconds=time.perf_counter() - started)
            return self._store_model(request, base / "model", started, progress)
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def _run_training(self, request: TrainingRequest, base: Path, progress: Progress) -> int:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
        environment |= {**request.environment, "SAGEMAKER_BASE_DIR": str(base), "TRAINING_JOB_NAME": request.job_name,
                        "PYTHONUNBUFFERED": "1"}
        with open(base / "output.log", "w") as log:
            process = subprocess.Popen(TRAIN_COMMAND, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       env=environment, cwd=outputs.project_root())
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    log.write(line)
                    if "epoch=" in line and "validation_accuracy=" in line:
                        progress(line.split(" INFO ", 1)[-1].strip().rstrip(";"))
                return process.wait()
            finally:
                _terminate(process, TRAIN_STOP_TIMEOUT_S)   # Ctrl-C or an error: never leave it running

    def _store_model(self, request: TrainingRequest, model_dir: Path, started: float,
                     progress: Progress) -> TrainingResult:
        packed = bundle.pack(model_dir, kind="model")
        bucket, key_arn = outputs.models_location(request.team)
        uri, sent = bundle.upload(self.aws.client("s3"), packed, bucket, f"models/{request.model}", key_arn,
                                  self.tags)
        progress(f"model {'uploaded to' if sent else 'already at'} {uri}")
        card: dict[str, Any] = {}
        card_file = model_dir / "model_card.json"
        if card_file.is_file():
            card = json.loads(card_file.read_text())
        metrics = {k: float(v) for k, v in (card.get("metrics") or {}).items() if isinstance(v, int | float)}
        return TrainingResult(request.job_name, self.name, "Completed", uri, packed.sha256, metrics,
                              data_sha256=(card.get("data") or {}).get("sha256"),
                              git_revision=card.get("git_revision"), seconds=time.perf_counter() - started)

    # ---- serving --------------------------------------------------------------------------------

    def _state_file(self, endpoint: str) -> Path:
        return self.state_dir / endpoint / "state.json"

    def _state(self, endpoint: str) -> dict[str, Any] | None:
        path = self._state_file(endpoint)
        return json.loads(path.read_text()) if path.is_file() else None

    def _alive(self, state: dict[str, Any]) -> bool:
        """The recorded pid is still our server (not a recycled pid)."""
        try:
            cmdline = Path(f"/proc/{state['pid']}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"serving" in cmdline and str(state["port"]).encode() in cmdline

    def deploy(self, request: DeployRequest, progress: Progress = quiet) -> Deployment:
        package = registry.require_approved(request.package)
        directory = self.state_dir / request.endpoint
        model_dir = directory / f"v{package.version}" / "model"
        bucket, key = parse_s3(package.model_data_url)
        body = self.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        shutil.rmtree(model_dir, ignore_errors=True)
        bundle.unpack(body, model_dir)
        previous = self._state(request.endpoint)
        port = free_port()
        log_path = directory / "server.log"
        command = [*SERVE_COMMAND, "--model-dir", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
                   "--workers", "1"]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                       cwd=outputs.project_root())
        self._children[request.endpoint] = process
        url = f"http://127.0.0.1:{port}"
        try:
            self._wait_ready(process, url, log_path, progress)
        except BaseException:
            _terminate(process, STOP_TIMEOUT_S)
            raise
        state = {"pid": process.pid, "port": port, "url": url, "packageArn": package.arn,
                 "version": package.version, "modelDir": str(model_dir), "status": "InService",
                 "started": time.time()}
        self._state_file(request.endpoint).write_text(json.dumps(state, indent=2))
        if previous and previous.get("status") == "InService" and self._alive(previous):
            self._signal_stop(previous)   # the new version answers before the old one goes away
        return Deployment(request.endpoint, self.name, "InService", package.arn, url, f"pid {process.pid}")

    def _wait_ready(self, process: subprocess.Popen, url: str, log_path: Path, progress: Progress) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        progress(f"waiting for {url}/ping")
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise TargetError(f"the local server exited with {process.returncode} before it was ready:\n{tail}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise TargetError(f"the local server at {url} was not ready after {READY_TIMEOUT_S} s (log: {log_path})")

    def invoke(self, endpoint: str, body: bytes, content_type: str = "application/json",
               accept: str = "application/json") -> bytes:
        state = self._running(endpoint)
        request = urllib.request.Request(f"{state['url']}/invocations", data=body, method="POST",
                                         headers={"Content-Type": content_type, "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise TargetError(f"{endpoint} answered {exc.code}: {exc.read().decode(errors='replace')}") from None

    def _running(self, endpoint: str) -> dict[str, Any]:
        state = self._state(endpoint)
        if state is None:
            raise TargetError(f"no local endpoint {endpoint}: run `mlp deploy --target local` first")
        if state.get("status") != "InService" or not self._alive(state):
            raise TargetError(f"local endpoint {endpoint} is stopped: run `mlp deploy --target local` to start it")
        return state

    def status(self, endpoint: str) -> Deployment:
        state = self._state(endpoint)
        if state is None:
            return Deployment(endpoint, self.name, "NotFound")
        status = state["status"] if state.get("status") != "InService" or self._alive(state) else "Stopped"
        return Deployment(endpoint, self.name, status, state.get("packageArn"), state.get("url"),
                          f"version {state.get('version')}")

    def _signal_stop(self, state: dict[str, Any]) -> None:
        child = next((p for p in self._children.values() if p.pid == state["pid"]), None)
        if child is not None:
            _terminate(child, STOP_TIMEOUT_S)
            return
        os.kill(state["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline and self._alive(state):
            time.sleep(0.1)
        if self._alive(state):
            os.kill(state["pid"], signal.SIGKILL)

    def stop(self, endpoint: str) -> Deployment:
        state = self._state(endpoint)
        if state is None:
            raise TargetError(f"no local endpoint {endpoint}")
        if state.get("status") == "InService" and self._alive(state):
            self._signal_stop(state)
        state["status"] = "Stopped"
        self._state_file(endpoint).write_text(json.dumps(state, indent=2))
        return Deployment(endpoint, self.name, "Stopped", state.get("packageArn"), None)

    def stop_all(self) -> None:
        """Stop every server this process started (the demo's exit path)."""
        for endpoint in list(self._children):
            state = self._state(endpoint)
            if state is not None:
                self.stop(endpoint)
            _terminate(self._children.pop(endpoint), STOP_TIMEOUT_S)
