"""The drift baseline of a served model: statistics and constraints of its training set, computed by
SageMaker Model Monitor's analyzer as a processing job (the same image the hourly monitor runs).

`mlp models baseline --stack S --model M --dataset datasets/<name>/<sha>/train/` reads the CSV (header
row) under that prefix of the team's curated bucket and writes `statistics.json` and
`constraints.json` to `s3://<models bucket>/monitoring/<model>/baseline/` of the primary region, from
where the bucket replicates them to every serving region; the stack's `DriftMonitor` reads them there.
The job runs as the team's execution role, in the platform's subnets, isolated, under the models key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from platform_lib.contract import PlatformOutputs, TeamOutputs
from policies.support.sagemaker import analyzer_image

INPUT = "/opt/ml/processing/input/baseline_dataset_input"
OUTPUT = "/opt/ml/processing/output"
INSTANCE_TYPE = "ml.m5.xlarge"
DONE = {"Completed", "Failed", "Stopped"}


class BaselineError(Exception):
    """The baseline cannot be computed (unknown model, dataset outside the team's data, failed job)."""


def baseline_uri(team: TeamOutputs, model: str) -> str:
    region = team.primary_region
    return f"s3://{team.models_buckets[region]}/monitoring/{model}/baseline"


def baseline_request(team: TeamOutputs, platform: PlatformOutputs, model: str, dataset: str,
                     now: datetime | None = None) -> dict[str, Any]:
    """The `CreateProcessingJob` request that computes `model`'s baseline from `dataset` (a key prefix of
    the curated bucket)."""
    if model not in team.endpoints:
        raise BaselineError(f"{model!r} is not served on SageMaker by {team.team}-{team.environment}; served: "
                            f"{', '.join(sorted(team.endpoints)) or 'none'}")
    if dataset.startswith("s3://") or ".." in dataset.split("/"):
        raise BaselineError(f"--dataset {dataset!r}: a key prefix of the curated bucket "
                            f"({team.buckets['curated']}), e.g. datasets/<name>/<sha256>/train/")
    region = team.primary_region
    network = platform.networks[region]
    key = team.key_arns["models"][region]
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return {
        "ProcessingJobName": f"{team.team}-{team.environment}-{model}-baseline-{stamp}"[:63],
        "RoleArn": team.execution_role_arn,
        "AppSpecification": {"ImageUri": analyzer_image(region)},
        "Environment": {"dataset_format": '{"csv": {"header": true}}', "dataset_source": INPUT,
                        "output_path": OUTPUT, "publish_cloudwatch_metrics": "Disabled"},
        "ProcessingInputs": [{"InputName": "baseline_dataset_input", "S3Input": {
            "S3Uri": f"s3://{team.buckets['curated']}/{dataset.lstrip('/')}", "LocalPath": INPUT,
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"KmsKeyId": key, "Outputs": [{"OutputName": "monitoring_output", "S3Output": {
            "S3Uri": baseline_uri(team, model), "LocalPath": OUTPUT, "S3UploadMode": "EndOfJob"}}]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": INSTANCE_TYPE,
                                                  "VolumeSizeInGB": 20, "VolumeKmsKeyId": key}},
        "NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True,
                          "VpcConfig": {"Subnets": list(network.private_subnet_ids),
                                        "SecurityGroupIds": [network.sagemaker_security_group_id or ""]}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def compute_baseline(sagemaker: Any, request: dict[str, Any], wait: bool = True, poll_s: float = 30.0,
                     progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Start the job; with `wait`, return when it ends (a failed job raises with SageMaker's reason)."""
    name = request["ProcessingJobName"]
    sagemaker.create_processing_job(**request)
    progress(f"{name}: started")
    if not wait:
        return {"ProcessingJobName": name, "ProcessingJobStatus": "InProgress"}
    while True:
        described = sagemaker.describe_processing_job(ProcessingJobName=name)
        status = described["ProcessingJobStatus"]
        if status in DONE:
            break
        time.sleep(poll_s)
    if status != "Completed":
        raise BaselineError(f"{name} {status}: {described.get('FailureReason') or described.get('ExitMessage', '')}")
    progress(f"{name}: baseline written to {request['ProcessingOutputConfig']['Outputs'][0]['S3Output']['S3Uri']}")
    return dict(described)
