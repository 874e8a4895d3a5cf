"""``mlp pipeline run --target local``: the retraining pipeline's steps, one after the other, on this machine.

Prepare with the Prepare step's entry point and arguments (``python -m platform_lib.pipeline.prepare``: its inputs
downloaded from S3, its outputs uploaded to the run's prefix; a feature group's training set from the local store
of ``mlp features`` instead of the offline store), train with the local target (the same ``TrainingRequest`` as
the pipeline's training step, on the prepared channels), evaluate with the same entry point as the pipeline's
evaluation step (``python -m training.evaluation``), check the gates by
evaluating the definition's own conditions on the evaluation file, and register the version as
``PendingManualApproval`` in the team's package group, or stop with the gate that failed.
"""

from __future__ import annotations

import json
import operator
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_lib import outputs, registry
from platform_lib.pipeline.definition import EVALUATION_FILE, Spec, definition, prepare_step, training_request
from platform_lib.pipeline.prepare import OFFLINE_INPUT
from platform_lib.targets.base import Progress, Target, TargetError, quiet
from platform_lib.targets.local import parse_s3

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualTo": operator.ge, "GreaterThan": operator.gt,
    "LessThanOrEqualTo": operator.le, "LessThan": operator.lt}
EVALUATION_COMMAND = [sys.executable, "-m", "training.evaluation"]
PREPARE_COMMAND = [sys.executable, "-m", "platform_lib.pipeline.prepare"]
STEPS = ("Prepare", "Train", "Evaluate", "CheckGates", "Register")


@dataclass
class StepRecord:
    name: str
    status: str                 # Succeeded | Failed | Skipped
    detail: str = ""


@dataclass
class LocalRun:
    pipeline: str
    steps: list[StepRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    package: registry.Package | None = None

    @property
    def status(self) -> str:
        return "Failed" if any(s.status == "Failed" for s in self.steps) else "Succeeded"

    def as_json(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "status": self.status, "metrics": self.metrics,
                "steps": [{"name": s.name, "status": s.status, "detail": s.detail} for s in self.steps],
                "package": self.package.as_json() if self.package else None}


def json_get(document: Any, path: str) -> Any:
    """``Std:JsonGet``'s dotted path (``metrics.validation_accuracy.value``) in a JSON document; None if absent."""
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def check(conditions: list[dict[str, Any]], evaluation: dict[str, Any]) -> list[str]:
    """The failed conditions of a ``Condition`` step, each as text (empty: all hold)."""
    failed = []
    for item in conditions:
        path = item["LeftValue"]["Std:JsonGet"]["Path"]
        value = json_get(evaluation, path)
        symbol = {"GreaterThanOrEqualTo": ">=", "GreaterThan": ">", "LessThanOrEqualTo": "<=", "LessThan": "<"}
        text = f"{path} {symbol[item['Type']]} {item['RightValue']:g}"
        if not isinstance(value, int | float):
            failed.append(f"{text}: no such metric in {EVALUATION_FILE}")
        elif not COMPARE[item["Type"]](float(value), float(item["RightValue"])):
            failed.append(f"{text}: got {value:g}")
    return failed


def _download(s3: Any, uri: str, directory: Path) -> None:
    bucket, prefix = parse_s3(uri)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            target = directory / item["Key"][len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))


def prepare(spec: Spec, s3: Any, run_id: str, features_dir: Path | None = None,
            progress: Progress = quiet) -> dict[str, str]:
    """Run the Prepare step's entry point with its arguments; the S3 prefix of each prepared channel."""
    arguments = prepare_step(spec)["Arguments"]
    bucket, key_arn = outputs.data_location(spec.team, "curated")
    command = [*PREPARE_COMMAND, *arguments["AppSpecification"]["ContainerArguments"]]
    if spec.features is not None:
        if features_dir is None:
            raise TargetError(f"model {spec.model.name} trains on feature group {spec.features.name}: give the local "
                              f"feature store (--features-dir, as mlp features --data-dir)")
        command += ["--local-store", str(features_dir)]
    with tempfile.TemporaryDirectory(prefix="mlp-prepare-") as scratch:
        base = Path(scratch)
        for item in arguments["ProcessingInputs"]:
            if item["InputName"] != OFFLINE_INPUT:   # locally: the local store instead
                _download(s3, item["S3Input"]["S3Uri"], base / "input" / item["InputName"])
        done = subprocess.run(command, env={**os.environ, "SAGEMAKER_PROCESSING_DIR": str(base)}, capture_output=True,
                              text=True, cwd=outputs.project_root(), check=False)
        if done.returncode != 0:
            failure = base / "output" / "failure"
            raise TargetError(failure.read_text() if failure.is_file() else done.stderr.strip()[-2000:])
        if done.stdout.strip():
            progress(done.stdout.strip())
        prepared = {}
        for item in arguments["ProcessingOutputConfig"]["Outputs"]:
            channel = item["OutputName"]
            prefix = f"{spec.prepared_uri}{run_id}/{channel}/".removeprefix(f"s3://{bucket}/")
            folder = base / "output" / channel
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                s3.upload_file(str(path), bucket, f"{prefix}{path.relative_to(folder).as_posix()}",
                               ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn})
            prepared[channel] = f"s3://{bucket}/{prefix}"
        return prepared


def evaluate(s3: Any, model_data_url: str, progress: Progress = quiet) -> dict[str, Any]:
    """Run the evaluation step's entry point on the trained artifact; its ``evaluation.json``."""
    with tempfile.TemporaryDirectory(prefix="mlp-evaluate-") as scratch:
        base = Path(scratch)
        (base / "model").mkdir()
        bucket, key = parse_s3(model_data_url)
        s3.download_file(bucket, key, str(base / "model" / "model.tar.gz"))
        environment = {**os.environ, "SAGEMAKER_PROCESSING_DIR": str(base)}
        done = subprocess.run(EVALUATION_COMMAND, env=environment, capture_output=True, text=True,
                              cwd=outputs.project_root(), check=False)
        if done.returncode != 0:
            failure = base / "evaluation" / "failure"
            raise TargetError(failure.read_text() if failure.is_file() else done.stderr.strip()[-2000:])
        progress(done.stdout.strip())
        return dict(json.loads((base / "evaluation" / EVALUATION_FILE).read_text()))


def _failed(outcome: LocalRun, step: str, detail: str) -> LocalRun:
    outcome.steps += [StepRecord(step, "Failed", detail),
                      *(StepRecord(n, "Skipped") for n in STEPS[STEPS.index(step) + 1:])]
    return outcome


def run(spec: Spec, target: Target, sm: Any, s3: Any, progress: Progress = quiet,
        features_dir: Path | None = None) -> LocalRun:
    """The pipeline's steps in order; a failed step stops the run (later steps are Skipped)."""
    steps = definition(spec)["Steps"]
    check_step = next(s for s in steps if s["Type"] == "Condition")
    outcome = LocalRun(spec.name)
    job = f"{spec.model.name}-retrain-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    features = spec.features
    progress(f"Prepare: {', '.join(i['InputName'] for i in steps[0]['Arguments']['ProcessingInputs'][:2])}"
             + (f" with feature group {features.name} of the local store {features_dir}" if features else ""))
    try:
        channels = prepare(spec, s3, job, features_dir, progress)
    except (TargetError, OSError) as exc:
        return _failed(outcome, "Prepare", str(exc))
    outcome.steps.append(StepRecord("Prepare", "Succeeded", ", ".join(channels.values())))
    progress(f"Train: {job} on the {target.name} target")
    trained = target.train(training_request(spec, job, channels), progress)
    if trained.status != "Completed" or not trained.model_data_url:
        return _failed(outcome, "Train", trained.failure_reason or trained.status)
    outcome.steps.append(StepRecord("Train", "Succeeded", trained.model_data_url))
    try:
        evaluation = evaluate(s3, trained.model_data_url, progress)
    except (TargetError, OSError) as exc:
        return _failed(outcome, "Evaluate", str(exc))
    outcome.metrics = {k: float(v["value"]) for k, v in evaluation.get("metrics", {}).items()}
    outcome.steps.append(StepRecord("Evaluate", "Succeeded", EVALUATION_FILE))
    failed = check(check_step["Arguments"]["Conditions"], evaluation)
    if failed:
        outcome.steps += [StepRecord("CheckGates", "Failed", "; ".join(failed)),
                          StepRecord("Register", "Skipped", "below the gates: not registered")]
        return outcome
    outcome.steps.append(StepRecord("CheckGates", "Succeeded", ", ".join(map(str, spec.gates))))
    group = outputs.package_group(spec.team, spec.model.name)
    lineage = {"model_sha256": trained.model_sha256, "data_sha256": trained.data_sha256,
               "git_revision": trained.git_revision}
    package, created = registry.register(
        sm, group, image=spec.serving_image_uri, model_data_url=trained.model_data_url, metrics=outcome.metrics,
        lineage={k: v for k, v in lineage.items() if v}, description=f"retrained locally by {spec.name} ({job})",
        commit=trained.git_revision)
    outcome.package = package
    outcome.steps.append(StepRecord("Register", "Succeeded", f"{group} version {package.version} "
                                    f"{package.status}{'' if created else ' (already registered)'}"))
    return outcome
