"""`mlp deploy` of a model the team stack serves: recorded in the stack file, checked with the offline plan,
applied with `pulumi up` through the Automation API (or the command printed), and never a SageMaker
endpoint call. The Automation API is replaced at its boundary (`pulumi.automation.select_stack`): there is
no Pulumi CLI or backend on this machine; everything before it (registry in moto, the stack file, the
real offline plan) is real."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from platform_lib import registry, stack_release
from platform_lib.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/fraud/serving:2.0.0"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project's Pulumi.yaml and the two stacks fraud-dev needs, as the working directory."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    for stack in ("platform-dev", "fraud-dev"):
        shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", root / "stacks")
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLP_STATE_DIR", str(tmp_path / "state"))
    return root


def approved_scorer(team, key: str = "models/scorer/abc123/model.tar.gz", image: str = IMAGE) -> registry.Package:
    sm, s3 = team.aws.client("sagemaker"), team.aws.client("s3")
    sm.create_model_package_group(ModelPackageGroupName="fraud-dev-scorer")
    bucket = team.outputs.models_buckets["eu-west-1"]
    s3.put_object(Bucket=bucket, Key=key, Body=b"model", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=team.outputs.key_arns["models"]["eu-west-1"])
    package, _ = registry.register(sm, "fraud-dev-scorer", image=image, model_data_url=f"s3://{bucket}/{key}",
                                   metrics={"validation_accuracy": 0.97}, lineage={"model_sha256": key})
    return registry.approve(sm, package, "ok")


def deploy(team, *args: str):
    result = CliRunner().invoke(app, ["deploy", "-s", "fraud-dev", "-m", "scorer", "--target", "sagemaker",
                                      "--plan", str(team.plan), *args])
    return result.exit_code, result.output


def expected_file(original: str, key: str, version: int) -> str:
    """The stack file with exactly the release's three values changed; every comment and line else kept."""
    text = original.replace("image: fraud/serving:1.4.0", "image: fraud/serving:2.0.0")
    text = text.replace("modelData: scorer/3/model.tar.gz", f"modelData: {key}")
    return text + f"  ml-platform:modelVersions:\n    scorer: {version}\n"


def no_endpoint_calls(team) -> None:
    sm = team.aws.client("sagemaker")
    assert sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_models()["Models"] == []


@pytest.mark.slow
def test_without_the_pulumi_cli_the_file_is_updated_and_the_command_printed(team, project, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    package = approved_scorer(team)
    path = project / "stacks" / "Pulumi.fraud-dev.yaml"
    original = path.read_text()
    code, out = deploy(team)
    assert code == 0, out
    assert "is served by stack fraud-dev" in out and "checking the offline plan" in out
    assert path.read_text() == expected_file(original, "models/scorer/abc123/model.tar.gz", package.version)
    command = (f"pulumi up --stack fraud-dev --cwd {project} --policy-pack {project}/policies "
               f"--policy-pack-config {project}/policies/config/dev.json")
    assert out.rstrip().splitlines()[-1] == command
    assert (project / "stacks" / "Pulumi.platform-dev.yaml").read_text() == \
        (ROOT / "stacks" / "Pulumi.platform-dev.yaml").read_text()
    no_endpoint_calls(team)


@pytest.mark.slow
def test_with_the_pulumi_cli_the_automation_api_runs_up_on_the_recorded_file(team, project, monkeypatch):
    from pulumi import automation

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/local/bin/pulumi" if name == "pulumi" else None)
    calls: list[tuple[str, dict[str, Any]]] = []
    path = project / "stacks" / "Pulumi.fraud-dev.yaml"

    class Summary:
        result = "succeeded"

    class Stack:
        def up(self, **kwargs):
            calls.append(("up", {**kwargs, "file then": path.read_text()}))
            kwargs["on_output"]("Updating (fraud-dev)")
            return type("UpResult", (), {"summary": Summary()})()

    def select_stack(**kwargs):
        calls.append(("select_stack", kwargs))
        return Stack()

    monkeypatch.setattr(automation, "select_stack", select_stack)
    package = approved_scorer(team)
    original = path.read_text()
    code, out = deploy(team, "--json")
    assert code == 0, out
    document = json.loads(out[out.index('{\n  "stack"'):])
    assert (document["status"], document["result"], document["version"]) == ("Applied", "succeeded", package.version)
    (_, selected), (_, up) = calls
    assert selected == {"stack_name": "fraud-dev", "work_dir": str(project)}
    assert up["policy_packs"] == [str(project / "policies")]
    assert up["policy_pack_configs"] == [str(project / "policies" / "config" / "dev.json")]
    # pulumi up ran on the file that records the release
    assert up["file then"] == expected_file(original, "models/scorer/abc123/model.tar.gz", package.version)
    assert "Updating (fraud-dev)" in out
    no_endpoint_calls(team)


@pytest.mark.slow
def test_a_release_the_plan_refuses_leaves_the_stack_file_unchanged(team, project, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    approved_scorer(team, key="models/scorer/a b/model.tar.gz")   # S3 allows the space; the schema does not
    path = project / "stacks" / "Pulumi.fraud-dev.yaml"
    original = path.read_text()
    code, out = deploy(team)
    assert code == 2 and "does not plan" in out and "is unchanged" in out and "modelData" in out, out
    assert path.read_text() == original
    no_endpoint_calls(team)


def test_a_version_whose_image_is_not_the_accounts_ecr_is_refused(team, project):
    approved_scorer(team, image="ml-serving:cpu")
    path = project / "stacks" / "Pulumi.fraud-dev.yaml"
    original = path.read_text()
    code, out = deploy(team)
    assert code == 2 and "'ml-serving:cpu'" in out and "111111111111.dkr.ecr" in out
    assert path.read_text() == original
    no_endpoint_calls(team)


def test_stopping_a_stack_endpoint_is_refused(team, project):
    code, out = deploy(team, "--stop")
    assert code == 2 and "served by stack fraud-dev" in out and "pulumi up" in out
    code, out = deploy(team, "--endpoint", "fraud-dev-scorer-euw1", "--stop")
    assert code == 2 and "served by stack fraud-dev" in out
    no_endpoint_calls(team)


def test_a_model_the_stack_does_not_serve_has_no_owner(project):
    path = project / "stacks" / "Pulumi.fraud-dev.yaml"
    assert stack_release.owner(path, "digits") is None          # registered, not served: the sandbox path
    served = stack_release.owner(path, "scorer")
    assert served is not None and served.image == "fraud/serving:1.4.0"
    assert stack_release.owner(project / "stacks" / "Pulumi.platform-dev.yaml", "scorer") is None


def test_the_sagemaker_target_itself_refuses_a_stack_endpoint(team, project):
    """The library's safety net under the CLI: a direct deploy onto a stack's endpoint is refused."""
    from platform_lib.targets.base import DeployRequest, TargetError
    from platform_lib.targets.sagemaker import SageMakerTarget

    package = approved_scorer(team)
    target = SageMakerTarget(team.aws, "fraud-dev", None, tags={})
    with pytest.raises(TargetError, match="endpoint fraud-dev-scorer-euw1 belongs to stack fraud-dev"):
        target.deploy(DeployRequest("fraud-dev-scorer-euw1", package, team.outputs))
    no_endpoint_calls(team)


def test_the_artifact_is_copied_to_every_other_served_region_under_its_key(team):
    from platform_lib.config.schema.serving import ServedModel

    package = approved_scorer(team)
    s3, kms = team.aws.client("s3", "us-east-1"), team.aws.client("kms", "us-east-1")
    key_arn = kms.create_key(Description="models of fraud-dev in us-east-1")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="fraud-dev-models-111111111111-use1")
    outputs = team.outputs.model_copy(update={
        "models_buckets": {**team.outputs.models_buckets, "us-east-1": "fraud-dev-models-111111111111-use1"},
        "key_arns": {**team.outputs.key_arns, "models": {**team.outputs.key_arns["models"], "us-east-1": key_arn}}})
    served = ServedModel.model_validate({"name": "scorer", "image": "fraud/serving:2.0.0", "maxCapacity": 1,
                                         "modelData": "x.tar.gz", "instanceType": "ml.m5.large",
                                         "regions": ["eu-west-1", "us-east-1"]})
    key = package.model_data_url.split("/", 3)[3]
    assert stack_release.copy_to_regions(team.aws, outputs, served, key) == ["us-east-1"]
    head = s3.head_object(Bucket="fraud-dev-models-111111111111-use1", Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    assert s3.get_object(Bucket="fraud-dev-models-111111111111-use1", Key=key)["Body"].read() == b"model"
    alone = served.model_copy(update={"regions": ["eu-west-1"]})
    assert stack_release.copy_to_regions(team.aws, outputs, alone, key) == []


@pytest.mark.slow
def test_a_failed_pulumi_up_puts_the_stack_file_back_and_prints_the_command(team, project, monkeypatch):
    """The release's undo (stack_release.ship, shared with mlp promote model and mlp rollback)."""
    from pulumi import automation

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/local/bin/pulumi" if name == "pulumi" else None)

    class Stack:
        def up(self, **kwargs):
            raise RuntimeError("error: update failed")

    monkeypatch.setattr(automation, "select_stack", lambda **kwargs: Stack())
    approved_scorer(team)
    path = project / "stacks" / "Pulumi.fraud-dev.yaml"
    original = path.read_text()
    code, out = deploy(team)
    text = " ".join(out.split())
    assert code == 2 and "pulumi up of fraud-dev failed: error: update failed" in text, out
    assert f"{path} has its old text again" in text and "pulumi up --stack fraud-dev --cwd" in text
    assert path.read_text() == original
    no_endpoint_calls(team)
