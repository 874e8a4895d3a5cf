"""Where targets come from: stack outputs from the offline plan (or Pulumi), through the contract."""

from __future__ import annotations

import json

import pytest

from platform_lib import outputs
from platform_lib.contract import PlatformOutputs, TeamOutputs


def test_team_outputs_come_from_the_plan(planned):
    team = outputs.team("fraud-dev", planned)
    assert isinstance(team, TeamOutputs)
    assert team.execution_role_arn == "arn:aws:iam::111111111111:role/fraud-dev-sagemaker-execution"
    assert team.models_buckets == {"eu-west-1": "fraud-dev-models-111111111111-euw1"}
    assert outputs.models_location(team)[0] == "fraud-dev-models-111111111111-euw1"
    assert outputs.package_group(team, "digits") == "fraud-dev-digits"
    assert isinstance(outputs.load("platform-dev", planned), PlatformOutputs)
    assert outputs.platform("fraud-dev", planned) == outputs.load("platform-dev", planned)


def test_unknown_stack_names_the_stacks_there(planned):
    with pytest.raises(outputs.OutputsError, match=r"unknown stack 'fraud-qa' .*fraud-dev, platform-dev"):
        outputs.team("fraud-qa", planned)


def test_platform_stack_is_not_a_delivery_target(planned):
    with pytest.raises(outputs.OutputsError, match="platform stack"):
        outputs.team("platform-dev", planned)


def test_missing_key_is_a_contract_error(planned, tmp_path):
    document = json.loads(planned.read_text())
    del document["stacks"]["fraud-dev"]["outputs"]["executionRoleArn"]
    broken = tmp_path / "plan.json"
    broken.write_text(json.dumps(document))
    with pytest.raises(outputs.OutputsError, match=r"TeamOutputs contract: executionRoleArn: Field required"):
        outputs.team("fraud-dev", broken)


def test_missing_plan_says_how_to_make_one(tmp_path):
    with pytest.raises(outputs.OutputsError, match=r"mlp plan --all --json"):
        outputs.team("fraud-dev", tmp_path / "nope.json")


def test_unserved_region_is_refused(planned):
    team = outputs.team("fraud-dev", planned)
    with pytest.raises(outputs.OutputsError, match=r"serves no models in us-east-1; serving regions: eu-west-1"):
        outputs.models_location(team, "us-east-1")


def test_pulumi_cli_wins_when_installed(tmp_path, monkeypatch, planned):
    """With `pulumi` on PATH and no --plan, outputs come from `pulumi stack output --json`."""
    exported = json.loads(planned.read_text())["stacks"]["fraud-dev"]["outputs"]
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\n[ \"$*\" = 'stack output --json --show-secrets --stack fraud-dev' ] || exit 3\n"
                    f"cat <<'EOF'\n{json.dumps(exported)}\nEOF\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    assert outputs.team("fraud-dev").execution_role_arn.endswith("fraud-dev-sagemaker-execution")
    with pytest.raises(outputs.OutputsError, match="failed"):
        outputs.team("fraud-qa")


def test_session_factory_honours_endpoint_and_creates_no_client_at_import(monkeypatch):
    import platform_lib.aws as aws_module

    assert not [name for name, value in vars(aws_module).items() if type(value).__name__ in ("S3", "Session")]
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    session = aws_module.session(region="eu-west-1")
    client = session.client("s3")
    assert client.meta.endpoint_url == "http://127.0.0.1:1"
    assert client.meta.config.retries["mode"] == "adaptive"
    assert client.meta.region_name == "eu-west-1"


def test_emulated_team_has_the_planned_resources(team):
    s3 = team.aws.client("s3")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    planned = team.planned
    assert set(planned.buckets.values()) | set(planned.log_buckets.values()) == names
    rule = s3.get_bucket_encryption(Bucket=planned.models_buckets["eu-west-1"])[
        "ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": team.outputs.key_arns["models"]["eu-west-1"]}
    assert team.aws.client("iam").get_role(RoleName="fraud-dev-sagemaker-execution")["Role"]["Arn"] == \
        planned.execution_role_arn
    group = team.aws.client("sagemaker").describe_model_package_group(ModelPackageGroupName="fraud-dev-digits")
    assert group["ModelPackageGroupArn"].startswith("arn:aws:sagemaker:eu-west-1:111111111111:")
    assert outputs.team("fraud-dev", team.plan) == team.outputs
