"""`mlp plan` as a user runs it: exit 0 compliant, 1 mandatory violations, 2 invalid config or program."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).parent / "programs"
MLP = [sys.executable, "-m", "platform_lib.cli"]


def mlp(*args, cwd=ROOT):
    return subprocess.run([*MLP, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_team_stack_plans_with_its_platform_and_writes_json(tmp_path):
    out = tmp_path / "plan.json"
    result = mlp("plan", "--stack", "fraud-prod", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fraud-prod (team, prod)" in result.stdout and "aws:s3/bucket:Bucket" in result.stdout
    plan = json.loads(out.read_text())
    assert list(plan["stacks"]) == ["platform-prod", "fraud-prod"]
    fraud = plan["stacks"]["fraud-prod"]
    assert fraud["exitCode"] == 0 and fraud["violations"] == []
    assert fraud["outputs"]["modelsBuckets"]["us-east-1"] == "fraud-prod-models-222222222222-use1"
    bucket = next(r for r in fraud["resources"]
                  if r["name"] == "fraud-prod-raw" and r["type"] == "aws:s3/bucket:Bucket")
    assert bucket["parent"].endswith("::fraud-prod-raw") and bucket["protect"] is True
    assert bucket["urn"] == ("urn:pulumi:fraud-prod::ml-platform::ml-platform:storage:DataLake$"
                             "ml-platform:storage:SecureBucket$aws:s3/bucket:Bucket::fraud-prod-raw")


def test_program_with_mandatory_violations_exits_1_and_names_the_resource():
    result = mlp("plan", "--program", str(PROGRAMS / "public_bucket"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mandatory s3-bucket-public-access-blocked scratch" in result.stdout
    assert "mandatory s3-bucket-kms-encryption scratch" in result.stdout


def test_same_program_is_advisory_in_dev_except_what_dev_keeps_mandatory():
    result = mlp("plan", "--program", str(PROGRAMS / "public_bucket"), "--env", "dev")
    assert result.returncode == 1  # public access stays mandatory in dev (policies/config/dev.json)
    assert "advisory s3-bucket-kms-encryption scratch" in result.stdout


def test_program_built_from_blueprint_components_is_compliant():
    result = mlp("plan", "--program", str(PROGRAMS / "compliant_bucket"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_failing_program_exits_2_with_its_message():
    result = mlp("plan", "--program", str(PROGRAMS / "broken"))
    assert result.returncode == 2
    assert "ValueError: subnet count must be positive" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_invalid_config_exits_2_naming_file_and_key(tmp_path):
    shutil.copy(ROOT / "stacks" / "Pulumi.platform-dev.yaml", tmp_path)
    (tmp_path / "Pulumi.fraud-dev.yaml").write_text(
        (ROOT / "stacks" / "Pulumi.fraud-dev.yaml").read_text().replace("eu-west-1", "eu-west-9"))
    result = mlp("plan", "--all", "--stacks-dir", str(tmp_path))
    assert result.returncode == 2
    assert "Pulumi.fraud-dev.yaml" in result.stdout and "ml-platform:primaryRegion: unknown AWS region" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_stack_exits_2_listing_stacks():
    result = mlp("plan", "--stack", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith(f"no stack file {ROOT}/stacks/Pulumi.nope.yaml; stacks here: fraud-dev, ")


def test_broken_contract_between_team_and_platform_exits_2(tmp_path):
    shutil.copy(ROOT / "stacks" / "Pulumi.platform-dev.yaml", tmp_path)
    team = (ROOT / "stacks" / "Pulumi.fraud-prod.yaml").read_text()
    (tmp_path / "Pulumi.fraud-prod.yaml").write_text(team + "  ml-platform:platformStack: platform-dev\n")
    result = mlp("plan", "--stack", "fraud-prod", "--stacks-dir", str(tmp_path))
    assert result.returncode == 2
    assert "team stack is prod but organization/ml-platform/platform-dev is dev" in result.stdout


def test_stacks_lists_an_environment_in_deployment_order():
    result = mlp("stacks", "--env", "prod")
    assert result.returncode == 0
    assert result.stdout.split() == ["platform-prod", "fraud-prod", "vision-prod"]


def test_stacks_refuses_an_invalid_stack_file(tmp_path):
    (tmp_path / "Pulumi.x-dev.yaml").write_text("config:\n  ml-platform:kind: lab\n")
    result = mlp("stacks", "--stacks-dir", str(tmp_path))
    assert result.returncode == 2 and "Pulumi.x-dev.yaml" in result.stderr and result.stdout == ""


def test_copied_stack_file_is_caught_as_a_physical_name_collision(tmp_path):
    for name in ("platform-dev", "fraud-dev"):
        shutil.copy(ROOT / "stacks" / f"Pulumi.{name}.yaml", tmp_path)
    shutil.copy(ROOT / "stacks" / "Pulumi.fraud-dev.yaml", tmp_path / "Pulumi.fraud-dev-copy.yaml")
    result = mlp("plan", "--all", "--stacks-dir", str(tmp_path))
    assert result.returncode == 2
    assert "physical name collision: stacks fraud-dev, fraud-dev-copy" in result.stdout
    assert ("aws:athena/workgroup:Workgroup named 'fraud-dev-analytics' (account 111111111111, eu-west-1) is "
            "claimed by fraud-dev (fraud-dev-analytics), fraud-dev-copy (fraud-dev-analytics)") in result.stdout


def test_a_new_environment_and_team_need_only_stack_files(tmp_path):
    platform = (ROOT / "stacks" / "Pulumi.platform-dev.yaml").read_text()
    (tmp_path / "Pulumi.platform-staging.yaml").write_text(
        platform.replace("environment: dev", "environment: staging").replace("10.10.0.0/16", "10.30.0.0/16"))
    team = (ROOT / "stacks" / "Pulumi.fraud-dev.yaml").read_text()
    (tmp_path / "Pulumi.ads-staging.yaml").write_text(
        team.replace("environment: dev", "environment: staging").replace("fraud", "ads"))
    out = tmp_path / "plan.json"
    result = mlp("plan", "--all", "--stacks-dir", str(tmp_path), "--json", str(out))
    assert result.returncode == 0, result.stdout
    stacks = json.loads(out.read_text())["stacks"]
    assert stacks["ads-staging"]["outputs"]["buckets"]["raw"] == "ads-staging-raw-111111111111-euw1"
    assert mlp("stacks", "--env", "staging", "--stacks-dir", str(tmp_path)).stdout.split() == [
        "platform-staging", "ads-staging"]


def test_command_groups_are_modules_registered_by_one_line_each():

    from platform_lib.cli import app

    assert app.COMMAND_GROUPS == ("plan", "train", "models", "deploy", "features", "cost", "promote", "pipeline")
    names = sorted(getattr(command.callback, "__name__", "") for command in app.app.registered_commands)
    assert names == ["cost", "deploy", "invoke", "plan", "register_model", "rollback", "stacks", "status", "train"]
    assert [group.name for group in app.app.registered_groups] == ["models", "features", "promote", "pipeline"]


def test_console_script_entry_point_is_the_package_main():
    from importlib.metadata import entry_points

    import platform_lib.cli

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "mlp"]
    assert script.value == "platform_lib.cli:main" and script.load() is platform_lib.cli.main
