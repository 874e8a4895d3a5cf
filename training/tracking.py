"""Experiment tracking: parameters, metrics and the model card to MLflow when ``MLFLOW_TRACKING_URI`` is set.

The plain MLflow REST API (``/api/2.0/mlflow/...``) over the standard library, not the ``mlflow``
client: the client and its dependencies add well over 100 MB to the training image and seconds to
start-up for four kinds of request. Without ``MLFLOW_TRACKING_URI`` every function here does nothing.

* ``http(s)://host[:port]``: an MLflow server; ``MLFLOW_TRACKING_TOKEN`` (bearer) or
  ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` (basic) authenticate, as for the client.
* ``arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>``: a SageMaker managed MLflow
  server, reached as the ``sagemaker-mlflow`` plugin does: ``https://<region>.experiments.sagemaker.aws``
  (``SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT`` overrides it), requests signed with SigV4 for the service
  ``sagemaker-mlflow`` with the container's AWS credentials, and the ARN in the
  ``x-mlflow-sm-tracking-server-arn`` header.

The run goes into the experiment ``MLFLOW_EXPERIMENT_NAME`` (created if missing; default ``Default``),
named after ``TRAINING_JOB_NAME`` when set. Call the functions on rank 0 only. Tracking never fails a
training job: the first error is logged as a warning and tracking stops for the rest of the process.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("training")
API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
TIMEOUT_S = 10.0
MAX_PARAMS_PER_BATCH = 100  # MLflow's log-batch limits
MAX_METRICS_PER_BATCH = 1000
MAX_PARAM_VALUE = 6000
CARD_ARTIFACT = "model_card.json"


class TrackingError(Exception):
    """A request to the tracking server failed."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class Client:
    """The few MLflow REST calls the runtime makes, against one tracking URI."""

    def __init__(self, uri: str, environ: Mapping[str, str]) -> None:
        self.uri = uri
        self.headers = {"Content-Type": "application/json"}
        self.region: str | None = None
        if uri.startswith("arn:"):
            parts = uri.split(":")
            if len(parts) < 6 or parts[2] != "sagemaker" or not parts[5].startswith("mlflow-tracking-server/"):
                raise TrackingError(f"MLFLOW_TRACKING_URI {uri!r} is not a SageMaker MLflow tracking server ARN")
            self.region = parts[3]
            suffix = "aws" if parts[1] in ("aws", "aws-us-gov") else parts[1]
            self.base = (environ.get("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT")
                         or f"https://{self.region}.experiments.sagemaker.{suffix}")
            self.headers["x-mlflow-sm-tracking-server-arn"] = uri
        elif uri.startswith(("http://", "https://")):
            self.base = uri.rstrip("/")
            if environ.get("MLFLOW_TRACKING_TOKEN"):
                self.headers["Authorization"] = f"Bearer {environ['MLFLOW_TRACKING_TOKEN']}"
            elif environ.get("MLFLOW_TRACKING_USERNAME"):
                pair = f"{environ['MLFLOW_TRACKING_USERNAME']}:{environ.get('MLFLOW_TRACKING_PASSWORD', '')}"
                self.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            raise TrackingError(f"MLFLOW_TRACKING_URI {uri!r} is neither http(s):// nor a SageMaker "
                                "tracking server ARN")

    def _signed(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        if self.region is None:
            return headers
        import hashlib

        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise TrackingError("no AWS credentials to sign requests to the SageMaker MLflow tracking server")
        request = AWSRequest(method=method, url=url, data=body,
                             headers={**headers, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
        SigV4Auth(credentials, "sagemaker-mlflow", self.region).add_auth(request)
        return dict(request.headers.items())

    def call(self, method: str, path: str, payload: Mapping[str, Any] | None = None,
             query: Mapping[str, str] | None = None, *, data: bytes | None = None) -> dict[str, Any]:
        url = self.base + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        body = data if data is not None else (json.dumps(payload).encode() if payload is not None else b"")
        headers = self._signed(method, url, body, dict(self.headers))
        request = urllib.request.Request(url, data=body if method != "GET" else None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:300]
            raise TrackingError(f"{method} {path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TrackingError(f"{method} {path}: {exc}") from None
        return json.loads(text) if text.strip() else {}

    def experiment_id(self, name: str) -> str:
        try:
            found = self.call("GET", f"{API}/experiments/get-by-name", query={"experiment_name": name})
            return str(found["experiment"]["experiment_id"])
        except TrackingError as exc:
            if "RESOURCE_DOES_NOT_EXIST" not in str(exc):
                raise
        return str(self.call("POST", f"{API}/experiments/create", {"name": name})["experiment_id"])


class Run:
    """One MLflow run of this process."""

    def __init__(self, client: Client, experiment: str, run_name: str | None, tags: Mapping[str, str]) -> None:
        self.client = client
        self.experiment_id = client.experiment_id(experiment)
        payload: dict[str, Any] = {"experiment_id": self.experiment_id, "start_time": _now_ms(),
                                   "tags": [{"key": k, "value": v} for k, v in tags.items()]}
        if run_name:
            payload["run_name"] = run_name
        info = client.call("POST", f"{API}/runs/create", payload)["run"]["info"]
        self.run_id = str(info["run_id"])
        self.artifact_uri = str(info.get("artifact_uri", ""))

    def log_batch(self, *, params: Mapping[str, Any] | None = None, metrics: Mapping[str, float] | None = None,
                  step: int = 0) -> None:
        items = [{"key": k, "value": (v if isinstance(v, str) else json.dumps(v))[:MAX_PARAM_VALUE]}
                 for k, v in (params or {}).items()]
        for start in range(0, len(items), MAX_PARAMS_PER_BATCH):
            self.client.call("POST", f"{API}/runs/log-batch",
                             {"run_id": self.run_id, "params": items[start:start + MAX_PARAMS_PER_BATCH]})
        now = _now_ms()
        values = [{"key": k, "value": float(v), "timestamp": now, "step": step} for k, v in (metrics or {}).items()]
        for start in range(0, len(values), MAX_METRICS_PER_BATCH):
            self.client.call("POST", f"{API}/runs/log-batch",
                             {"run_id": self.run_id, "metrics": values[start:start + MAX_METRICS_PER_BATCH]})

    def log_artifact(self, name: str, data: bytes) -> None:
        """Upload ``data`` as artifact ``name``: through the server's artifact proxy, or straight to S3."""
        uri = self.artifact_uri
        if uri.startswith("mlflow-artifacts:"):
            path = urllib.parse.urlparse(uri).path.strip("/")
            self.client.call("PUT", f"{ARTIFACTS_API}/{path}/{name}", data=data)
        elif uri.startswith("s3://"):
            import boto3

            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            boto3.client("s3", endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None).put_object(
                Bucket=bucket, Key=f"{prefix.rstrip('/')}/{name}".lstrip("/"), Body=data)
        else:
            raise TrackingError(f"artifact store {uri!r} is not supported (mlflow-artifacts: or s3://)")

    def end(self, status: str) -> None:
        self.client.call("POST", f"{API}/runs/update", {"run_id": self.run_id, "status": status, "end_time": _now_ms()})


_run: Run | None = None
_disabled = False


def _active() -> Run | None:
    """This process's run, started on first use; None when tracking is off or broken."""
    global _run, _disabled
    if _run is not None or _disabled:
        return _run
    environ = os.environ
    uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri:
        _disabled = True
        return None
    try:
        tags = {"mlp.training_job_name": environ.get("TRAINING_JOB_NAME", ""),
                "mlp.entry_point": environ.get("SM_USER_ENTRY_POINT", "")}
        _run = Run(Client(uri, environ), environ.get("MLFLOW_EXPERIMENT_NAME") or "Default",
                   environ.get("TRAINING_JOB_NAME") or None, {k: v for k, v in tags.items() if v})
        log.info("MLflow run %s in experiment %s at %s", _run.run_id, _run.experiment_id, uri)
    except (TrackingError, KeyError, ValueError) as exc:
        _fail(exc)
    return _run


def _fail(exc: Exception) -> None:
    global _run, _disabled
    log.warning("MLflow tracking is off for the rest of this job: %s", exc)
    _run, _disabled = None, True


def _guard(action: str, call: Any, *args: Any, **kwargs: Any) -> None:
    run = _active()
    if run is None:
        return
    try:
        call(run, *args, **kwargs)
    except (TrackingError, KeyError, ValueError) as exc:
        _fail(TrackingError(f"{action}: {exc}"))
    except Exception as exc:  # noqa: BLE001 - e.g. botocore errors uploading an artifact: never fail training
        _fail(TrackingError(f"{action}: {type(exc).__name__}: {exc}"))


def log_params(params: Mapping[str, Any]) -> None:
    """Log hyperparameters (values as text; non-strings as JSON)."""
    _guard("logging parameters", Run.log_batch, params=params)


def log_metrics(metrics: Mapping[str, float], step: int) -> None:
    """Log one step's (e.g. one epoch's) metrics."""
    _guard("logging metrics", Run.log_batch, metrics=metrics, step=step)


def log_model_card(card: Mapping[str, Any]) -> None:
    """Upload the model card as the run's ``model_card.json`` artifact."""
    _guard("uploading the model card", Run.log_artifact, CARD_ARTIFACT,
           (json.dumps(card, indent=2) + "\n").encode("utf-8"))


def end(status: str) -> None:
    """Close the run (``FINISHED``, ``FAILED`` or ``KILLED``); a no-op if none was started."""
    global _run, _disabled
    if _run is None:
        return
    _guard("ending the run", Run.end, status)
    _run, _disabled = None, True
