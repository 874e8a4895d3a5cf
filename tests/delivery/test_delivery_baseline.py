"""The drift baseline: the CreateProcessingJob request checked against botocore's SageMaker model
(Stubber), the wait loop and its failure, and what the library refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from platform_lib import monitoring, outputs

NOW = datetime(2026, 11, 22, 16, 30, 0, tzinfo=UTC)


@pytest.fixture
def stack(planned):
    return outputs.team("fraud-dev", planned), outputs.platform("fraud-dev", planned)


def test_baseline_job_reads_the_training_set_and_writes_where_the_monitor_reads(stack):
    team, platform = stack
    request = monitoring.baseline_request(team, platform, "scorer", "datasets/fraud/abc/train/", now=NOW)
    assert request["ProcessingJobName"] == "fraud-dev-scorer-baseline-20261122163000"
    assert request["AppSpecification"] == {
        "ImageUri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"}
    [source] = request["ProcessingInputs"]
    assert source["S3Input"]["S3Uri"] == f"s3://{team.buckets['curated']}/datasets/fraud/abc/train/"
    [output] = request["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == f"s3://{team.models_buckets['eu-west-1']}/monitoring/scorer/baseline"
    key = team.key_arns["models"]["eu-west-1"]
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == key
    assert request["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    network = platform.networks["eu-west-1"]
    assert request["NetworkConfig"] == {
        "EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {"Subnets": network.private_subnet_ids,
                      "SecurityGroupIds": [network.sagemaker_security_group_id]}}
    assert request["RoleArn"] == team.execution_role_arn


def test_compute_baseline_sends_a_valid_request_and_waits_for_the_job(stack):
    team, platform = stack
    request = monitoring.baseline_request(team, platform, "scorer", "datasets/fraud/abc/train/", now=NOW)
    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    name = request["ProcessingJobName"]
    arn = f"arn:aws:sagemaker:eu-west-1:111111111111:processing-job/{name}"
    with Stubber(client) as stub:   # validates the request against SageMaker's service model
        stub.add_response("create_processing_job", {"ProcessingJobArn": arn}, request)
        for status in ("InProgress", "Completed"):
            stub.add_response("describe_processing_job", {
                "ProcessingJobName": name, "ProcessingJobArn": arn, "ProcessingJobStatus": status,
                "ProcessingResources": request["ProcessingResources"], "AppSpecification": request["AppSpecification"],
                "RoleArn": request["RoleArn"], "CreationTime": NOW}, {"ProcessingJobName": name})
        seen: list[str] = []
        result = monitoring.compute_baseline(client, request, poll_s=0, progress=seen.append)
        stub.assert_no_pending_responses()
    assert result["ProcessingJobStatus"] == "Completed"
    assert seen[-1] == (f"{name}: baseline written to s3://{team.models_buckets['eu-west-1']}/monitoring/"
                        f"scorer/baseline")


def test_a_failed_baseline_job_raises_with_its_reason(stack):
    team, platform = stack
    request = monitoring.baseline_request(team, platform, "scorer", "datasets/x/", now=NOW)
    client = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stub:
        stub.add_response("create_processing_job", {"ProcessingJobArn": "arn:aws:sagemaker:eu-west-1:1:p/x"}, request)
        stub.add_response("describe_processing_job", {
            "ProcessingJobName": request["ProcessingJobName"], "ProcessingJobArn": "arn:aws:sagemaker:eu-west-1:1:p/x",
            "ProcessingJobStatus": "Failed", "FailureReason": "AlgorithmError: no header row",
            "ProcessingResources": request["ProcessingResources"], "AppSpecification": request["AppSpecification"],
            "RoleArn": request["RoleArn"], "CreationTime": NOW})
        with pytest.raises(monitoring.BaselineError, match="Failed: AlgorithmError: no header row"):
            monitoring.compute_baseline(client, request, poll_s=0)


@pytest.mark.parametrize("model, dataset, message", [
    ("digits", "datasets/x/", "'digits' is not served on SageMaker by fraud-dev; served: scorer"),
    ("scorer", "s3://elsewhere/x/", "--dataset 's3://elsewhere/x/': a key prefix of the curated bucket"),
    ("scorer", "datasets/../raw/", "--dataset 'datasets/../raw/': a key prefix of the curated bucket"),
])
def test_baseline_refuses_unserved_models_and_data_outside_the_curated_bucket(stack, model, dataset, message):
    team, platform = stack
    with pytest.raises(monitoring.BaselineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        monitoring.baseline_request(team, platform, model, dataset)


def test_mlp_models_baseline_refuses_an_unserved_model_with_exit_2(planned):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "platform_lib.cli", "models", "baseline", "--stack", "fraud-dev",
                             "--model", "digits", "--dataset", "datasets/x/", "--plan", str(planned)],
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1",
                                 "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
                                 "PYTHONPATH": str(monitoring.__file__).rsplit("/platform_lib/", 1)[0]})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'digits' is not served on SageMaker by fraud-dev; served: scorer" in result.stderr
