"""The delivery commands against moto in server mode: the lifecycle, and bad input failing with a clear
message, exit 2 (exit 1 for a policy refusal), and nothing half created."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from platform_lib.cli.app import app


@pytest.fixture
def mlp(team, tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_STATE_DIR", str(tmp_path / "state"))
    runner = CliRunner()

    def run(*args: str, plan=team.plan):
        extra = ["--plan", str(plan)] if plan is not None else []
        result = runner.invoke(app, [*args, *extra])
        return result.exit_code, result.output
    return run


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    from training.examples.digits.dataset import export

    out = tmp_path_factory.mktemp("digits")
    export(out)
    return out


def _packages(team):
    return team.aws.client("sagemaker").list_model_packages(ModelPackageGroupName="fraud-dev-digits")[
        "ModelPackageSummaryList"]


@pytest.mark.slow
def test_lifecycle_on_the_local_target(mlp, team, digits, tmp_path):
    code, out = mlp("train", "-s", "fraud-dev", "-m", "digits", "--data", str(digits), "--hp", "epochs=2",
                    "--job-name", "digits-cli", "--json")
    assert code == 0, out
    run = json.loads(out[out.index("{"):])
    assert run["status"] == "Completed" and run["metrics"]["validation_accuracy"] > 0.8
    code, out = mlp("register", "-s", "fraud-dev", "-m", "digits", "--job", "digits-cli", "--json")
    assert code == 0, out
    assert json.loads(out)["status"] == "PendingManualApproval" and json.loads(out)["lineage"]["model_sha256"]
    code, out = mlp("deploy", "-s", "fraud-dev", "-m", "digits")
    assert code == 2 and "no approved version (v1 PendingManualApproval)" in out
    assert not (tmp_path / "state" / "local" / "fraud-dev-digits-sandbox" / "state.json").exists()
    code, out = mlp("models", "approve", "-s", "fraud-dev", "-m", "digits", "-v", "1", "--note", "looks good")
    assert code == 0 and "Approved" in out
    code, out = mlp("deploy", "-s", "fraud-dev", "-m", "digits", "--json")
    assert code == 0, out
    try:
        row = (digits / "validation" / "digits.csv").read_text().splitlines()[1].split(",")[:-1]
        code, out = mlp("invoke", "-s", "fraud-dev", "-m", "digits", "--body", json.dumps([[float(v) for v in row]]))
        assert code == 0 and json.loads(out)["predictions"][0]["probability"] > 0
        code, out = mlp("status", "-s", "fraud-dev", "-m", "digits", "--json")
        assert code == 0 and json.loads(out)["servingVersion"] == 1 and json.loads(out)["endpoint"]["status"] == \
            "InService"
        code, out = mlp("models", "list", "-s", "fraud-dev", "-m", "digits")
        assert code == 0 and "Approved" in out
    finally:
        code, out = mlp("deploy", "-s", "fraud-dev", "-m", "digits", "--stop")
    assert code == 0 and "Stopped" in out
    code, out = mlp("invoke", "-s", "fraud-dev", "-m", "digits", "--body", "[[0]]")
    assert code == 2 and "is stopped" in out


def test_unknown_stack(mlp):
    code, out = mlp("models", "list", "-s", "fraud-qa", "-m", "digits")
    assert code == 2 and "unknown stack 'fraud-qa'" in out and "fraud-dev" in out


def test_outputs_missing_a_key(mlp, team, tmp_path):
    document = json.loads(team.plan.read_text())
    del document["stacks"]["fraud-dev"]["outputs"]["modelsBuckets"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    code, out = mlp("models", "list", "-s", "fraud-dev", "-m", "digits", plan=broken)
    assert code == 2 and "modelsBuckets: Field required" in out


def test_model_dir_without_handler_registers_nothing(mlp, team, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pt").write_bytes(b"x")
    code, out = mlp("register", "-s", "fraud-dev", "-m", "digits", "--model-dir", str(tmp_path / "model"))
    assert code == 2 and "has no code/inference.py" in out
    assert _packages(team) == []


def test_oversize_source_bundle_uploads_nothing(mlp, team, tmp_path, digits):
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print('train')\n")
    with open(source / "weights.bin", "wb") as handle:   # sparse: 60 MiB apparent size, no disk used
        handle.truncate(60 * 1024 * 1024)
    code, out = mlp("train", "-s", "fraud-dev", "-m", "digits", "--channel", "train=s3://b/t/",
                    "--source", str(source), "--entry-point", "train.py")
    assert code == 2 and "over the source bundle limit of 50 MiB (largest file: weights.bin)" in out
    bucket = team.outputs.models_buckets["eu-west-1"]
    assert team.aws.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_unapproved_version_on_sagemaker_creates_nothing(mlp, team):
    from platform_lib import registry

    registry.register(team.aws.client("sagemaker"), "fraud-dev-digits", image="i", model_data_url="s3://b/m",
                      metrics={}, lineage={})
    code, out = mlp("deploy", "-s", "fraud-dev", "-m", "digits", "-t", "sagemaker", "-v", "1")
    assert code == 2 and "version 1 is PendingManualApproval, not Approved" in out
    sm = team.aws.client("sagemaker")
    assert sm.list_models()["Models"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []


def test_stopped_local_endpoint(mlp):
    code, out = mlp("invoke", "-s", "fraud-dev", "-m", "digits", "--body", "[[0]]")
    assert code == 2 and "no local endpoint fraud-dev-digits-sandbox" in out


def test_policy_refusal_exits_1_naming_the_rule(mlp, team, tmp_path, monkeypatch):
    """A prod stack's request without the required tags: exit 1, the rule named, nothing created."""
    from platform_lib import outputs, registry

    document = json.loads(team.plan.read_text())
    document["stacks"]["fraud-dev"]["outputs"]["environment"] = "prod"
    document["stacks"]["fraud-dev"]["outputs"]["modelPackageGroups"] = {"digits": "fraud-prod-digits"}
    prod = tmp_path / "prod.json"
    prod.write_text(json.dumps(document))
    monkeypatch.setattr(outputs, "stack_tags", lambda stack: {})
    sm = team.aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="fraud-prod-digits")   # the prod team's group name
    package, _ = registry.register(sm, "fraud-prod-digits", image="i", model_data_url="s3://b/m", metrics={},
                                   lineage={})
    registry.approve(sm, package)
    code, out = mlp("deploy", "-s", "fraud-dev", "-m", "digits", "-t", "sagemaker", plan=prod)
    assert code == 1 and "required-tags (mandatory)" in out and "nothing was created" in out, out
    assert sm.list_models()["Models"] == []
    code, out = mlp("train", "-s", "fraud-dev", "-m", "digits", "-t", "kubernetes", "--image", "img",
                    "--channel", "train=s3://b/t/", "--dry-run", plan=prod)
    assert code == 0, out   # the Job passes the pack's Kubernetes rules (non-root ...): rendered and printed


def test_kubernetes_dry_run_prints_valid_manifests(mlp, team):
    from platform_lib import registry

    sm = team.aws.client("sagemaker")
    package, _ = registry.register(sm, "fraud-dev-digits", image="img:1", model_data_url="s3://b/m", metrics={},
                                   lineage={})
    registry.approve(sm, package)
    code, out = mlp("deploy", "-s", "fraud-dev", "-m", "digits", "-t", "kubernetes", "--dry-run", "--gpus", "1")
    assert code == 0, out
    assert "kind: HorizontalPodAutoscaler" in out and "nvidia.com/gpu" in out and "namespace: fraud" in out
    assert "kind: NetworkPolicy" in out and "cidr: 10.10.0.0/16" in out   # platform-dev's VPC reaches port 8080
