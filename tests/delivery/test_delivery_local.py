"""The local target end to end on moto: channels from S3, training subprocess, model back to S3,
registered, approved, served on a free port, invoked, stopped."""

from __future__ import annotations

import json

import pytest

from platform_lib import channels, registry
from platform_lib.targets.base import DeployRequest, TargetError, TrainingRequest
from platform_lib.targets.local import LocalTarget


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    from training.examples.digits.dataset import export

    out = tmp_path_factory.mktemp("digits")
    export(out)
    return {"train": out / "train", "validation": out / "validation"}


@pytest.mark.slow
def test_train_register_deploy_invoke_stop(team, digits, tmp_path):
    s3, sm = team.aws.client("s3"), team.aws.client("sagemaker")
    uris = channels.upload(s3, team.outputs, "digits", digits)
    assert uris["train"].startswith("s3://fraud-dev-curated-111111111111-euw1/datasets/digits/")
    tags = {"team": "fraud", "env": "dev", "cost-center": "risk-analytics"}
    target = LocalTarget(team.aws, state_dir=tmp_path / "state", tags=tags)
    seen: list[str] = []
    result = target.train(TrainingRequest("digits-1", "digits", team.outputs, "ml-training:cpu", uris,
                                          {"epochs": "3", "lr": "0.01"}), seen.append)
    assert result.status == "Completed", result.failure_reason
    assert any(line.startswith("epoch=3 ") for line in seen)
    assert result.model_data_url == (f"s3://fraud-dev-models-111111111111-euw1/models/digits/"
                                     f"{result.model_sha256}/model.tar.gz")
    assert 0.8 < result.metrics["validation_accuracy"] <= 1
    bucket, key = result.model_data_url[5:].split("/", 1)
    assert {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]} == tags
    package, _ = registry.register(sm, "fraud-dev-digits", image="ml-serving:cpu",
                                   model_data_url=result.model_data_url, metrics=result.metrics,
                                   lineage={"model_sha256": result.model_sha256 or ""})
    request = DeployRequest("fraud-dev-digits-local", package, team.outputs)
    with pytest.raises(registry.RegistryError, match="not Approved"):
        target.deploy(request)
    assert not (tmp_path / "state" / "fraud-dev-digits-local" / "state.json").exists()
    approved = registry.approve(sm, package)
    deployment = target.deploy(DeployRequest("fraud-dev-digits-local", approved, team.outputs))
    try:
        assert deployment.status == "InService"
        row = (digits["validation"] / "digits.csv").read_text().splitlines()[1].split(",")
        answer = json.loads(target.invoke(deployment.endpoint, json.dumps([[float(v) for v in row[:-1]]]).encode()))
        assert answer["predictions"][0]["class"] in {str(c) for c in range(10)} | set(range(10))
    finally:
        stopped = target.stop(deployment.endpoint)
    assert stopped.status == "Stopped" and target.status(deployment.endpoint).status == "Stopped"
    with pytest.raises(TargetError, match="is stopped"):
        target.invoke(deployment.endpoint, b"[[0]]")


def test_failed_training_surfaces_the_reason(team, digits, tmp_path):
    uris = channels.upload(team.aws.client("s3"), team.outputs, "digits", digits)
    result = LocalTarget(team.aws, state_dir=tmp_path).train(
        TrainingRequest("bad", "digits", team.outputs, "img", uris, {"epoch": "3"}))
    assert result.status == "Failed" and "epoch" in (result.failure_reason or "")
    assert not list(team.aws.client("s3").list_objects_v2(
        Bucket=team.outputs.models_buckets["eu-west-1"]).get("Contents", []))


def test_policy_violation_stops_local_training_before_anything_runs(team, tmp_path):
    """The model upload without the required tags, at prod's levels: refused naming the rule."""
    from platform_lib import guard

    prod_team = team.outputs.model_copy(update={"environment": "prod"})
    with pytest.raises(guard.PolicyViolation, match=r"required-tags \(mandatory\) on aws:s3/bucketObjectv2"):
        LocalTarget(team.aws, state_dir=tmp_path).train(TrainingRequest(
            "j", "digits", prod_team, "img", {"train": "s3://fraud-dev-curated-111111111111-euw1/none/"}))
    tags = {"team": "fraud", "env": "prod", "cost-center": "risk-analytics"}
    with pytest.raises(TargetError, match="is empty"):   # compliant: it gets as far as the channels
        LocalTarget(team.aws, state_dir=tmp_path, tags=tags).train(TrainingRequest(
            "j", "digits", prod_team, "img", {"train": "s3://fraud-dev-curated-111111111111-euw1/none/"}))


def test_empty_channel_is_refused(team, tmp_path):
    with pytest.raises(TargetError, match="is empty"):
        LocalTarget(team.aws, state_dir=tmp_path).train(TrainingRequest(
            "j", "digits", team.outputs, "img", {"train": "s3://fraud-dev-curated-111111111111-euw1/none/"}))
