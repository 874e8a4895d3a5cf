"""`mlp promote model` end to end against moto in server mode: a version below its thresholds exits 2 and changes
nothing; a passing one is promoted (Approved in the target group, its version in the target stack file); and
`mlp rollback` then serves the previous version again."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from platform_lib import aws, emulator, outputs, registry
from platform_lib.cli.app import app

SOURCE, TARGET = "fraud-staging", "fraud-prod"


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> tuple[Path, Path]:
    """The staging and prod stacks (tests/promotion/conftest.py's staging) planned offline once."""
    import shutil

    from platform_lib.plan import report, runner

    root = Path(__file__).resolve().parents[2]
    stacks = tmp_path_factory.mktemp("stacks")
    for path in (root / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, stacks / path.name)
    for name in ("platform", "fraud"):
        text = (stacks / f"Pulumi.{name}-dev.yaml").read_text()
        (stacks / f"Pulumi.{name}-staging.yaml").write_text(
            text.replace("environment: dev", "environment: staging").replace("111111111111", "333333333333"))
    files = [stacks / f"Pulumi.{s}.yaml" for s in ("platform-staging", "platform-prod", SOURCE, TARGET)]
    plans = runner.plan_stacks(files, jobs=1, context=sorted(stacks.glob("Pulumi.*.yaml")))
    assert all(p.error is None for p in plans), [p.error for p in plans]
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    report.write_json(plans, path)
    return stacks, path


@pytest.fixture
def world(planned, tmp_path):
    stacks, plan = planned
    with emulator.running(account_id="111111111111") as server:
        server.reset()   # moto's state lives in this process: other modules' servers leave theirs behind
        session = aws.session(region="eu-west-1", max_attempts=1)
        applied = plan
        for stack in (SOURCE, TARGET):
            team = emulator.provision(session, outputs.team(stack, plan), models=["digits", "scorer"])
            applied = emulator.write_outputs(stack, team, tmp_path / f"{stack}.json", plan=applied)
        directory = tmp_path / "stacks"
        directory.mkdir()
        for path in stacks.glob("Pulumi.*.yaml"):
            (directory / path.name).write_text(path.read_text())
        yield session, applied, directory


def register(session, plan: Path, accuracy: float) -> registry.Package:
    team = outputs.team(SOURCE, plan)
    bucket, key = outputs.models_location(team)
    s3, sm = session.client("s3"), session.client("sagemaker")
    s3.put_object(Bucket=bucket, Key=f"models/digits/{accuracy}/model.tar.gz", Body=b"weights",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    package, _ = registry.register(sm, outputs.package_group(team, "digits"), image="serve:1",
                                   model_data_url=f"s3://{bucket}/models/digits/{accuracy}/model.tar.gz",
                                   metrics={"validation_accuracy": accuracy}, lineage={"git_revision": "abc"})
    return registry.approve(sm, package, "reviewed")


def target_state(session, plan: Path, stacks: Path) -> tuple[list, list, str]:
    team = outputs.team(TARGET, plan)
    bucket, _ = outputs.models_location(team)
    objects = [o["Key"] for o in session.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    packages = [(p.version, p.status) for p in registry.list_packages(session.client("sagemaker"),
                                                                      outputs.package_group(team, "digits"))]
    return objects, packages, (stacks / f"Pulumi.{TARGET}.yaml").read_text()


def mlp(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.slow
def test_promote_model_and_rollback_end_to_end(world):
    session, plan, stacks = world
    promote = ["promote", "model", "--from", SOURCE, "--to", TARGET, "--model", "digits", "--plan", str(plan),
               "--stacks-dir", str(stacks)]
    register(session, plan, 0.90)
    before = target_state(session, plan, stacks)
    code, output = mlp(*promote)
    assert code == 2, output
    assert "validation_accuracy = 0.9 fails the threshold 'validation_accuracy >= 0.95'" in output
    assert target_state(session, plan, stacks) == before     # nothing copied, registered or written

    register(session, plan, 0.97)                             # version 2, the newest Approved
    code, output = mlp(*promote)
    assert code == 0, output
    assert f"{TARGET} does not serve digits from its stack (no ml-platform:serving.models entry): only" in output
    objects, packages, text = target_state(session, plan, stacks)
    assert packages == [(1, "Approved")] and "modelVersions:\n    digits: 1" in text
    assert objects == ["promoted/fraud-prod-digits/fraud-staging-v2/model.tar.gz"]

    register(session, plan, 0.98)                             # version 3, promoted as target version 2
    assert mlp(*promote)[0] == 0
    assert "digits: 2" in (stacks / f"Pulumi.{TARGET}.yaml").read_text()
    code, output = mlp("rollback", "--stack", TARGET, "--model", "digits", "--reason", "latency regression",
                       "--plan", str(plan), "--stacks-dir", str(stacks))
    assert code == 0, output
    _, packages, text = target_state(session, plan, stacks)
    assert packages == [(1, "Approved"), (2, "Rejected")] and "digits: 1" in text


def register_scorer(session, plan: Path, tag: str) -> registry.Package:
    """An Approved staging version of scorer, its image in staging's ECR (fraud-staging's account)."""
    team = outputs.team(SOURCE, plan)
    bucket, key = outputs.models_location(team)
    s3, sm = session.client("s3"), session.client("sagemaker")
    emulator.push_image(session, "fraud/serving", tag)   # in the target's ECR (one moto account for both)
    s3.put_object(Bucket=bucket, Key=f"models/scorer/{tag}/model.tar.gz", Body=tag.encode(),
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    package, _ = registry.register(sm, outputs.package_group(team, "scorer"),
                                   image=f"{team.account_id}.dkr.ecr.eu-west-1.amazonaws.com/fraud/serving:{tag}",
                                   model_data_url=f"s3://{bucket}/models/scorer/{tag}/model.tar.gz",
                                   metrics={"validation_accuracy": 0.93}, lineage={"git_revision": "abc"})
    return registry.approve(sm, package, "reviewed")


@pytest.mark.slow
def test_promote_and_rollback_of_a_model_the_target_serves_release_it_through_the_stack(world, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)     # no Pulumi CLI: the command is printed
    session, plan, stacks = world
    path = stacks / f"Pulumi.{TARGET}.yaml"
    original = path.read_text()
    prod = outputs.team(TARGET, plan)
    promote = ["promote", "model", "--from", SOURCE, "--to", TARGET, "--model", "scorer", "--plan", str(plan),
               "--stacks-dir", str(stacks)]
    register_scorer(session, plan, "2.0.0")
    code, output = mlp(*promote)
    assert code == 0, output
    key = "promoted/fraud-prod-scorer/fraud-staging-v1/model.tar.gz"
    assert (f"serving.models[scorer].image = fraud/serving:2.0.0, modelData = {key}, modelVersions.scorer = 1 "
            f"(offline plan compliant)") in output
    assert "artifact in the models bucket of us-east-1 too" in output
    assert output.endswith(f"pulumi up --stack {TARGET} --cwd {stacks.parent} --policy-pack {stacks.parent}/policies "
                           f"--policy-pack-config {stacks.parent}/policies/config/prod.json")
    assert path.read_text() == original.replace(
        "image: fraud/serving:1.4.0\n        modelData: scorer/3/model.tar.gz",
        f"image: fraud/serving:2.0.0\n        modelData: {key}") + "  ml-platform:modelVersions:\n    scorer: 1\n"
    s3 = session.client("s3", "us-east-1")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=prod.models_buckets["us-east-1"])["Contents"]] == [key]

    register_scorer(session, plan, "2.1.0")
    assert mlp(*promote)[0] == 0
    assert "image: fraud/serving:2.1.0" in path.read_text()
    code, output = mlp("rollback", "--stack", TARGET, "--model", "scorer", "--reason", "drift",
                       "--plan", str(plan), "--stacks-dir", str(stacks))
    assert code == 0, output
    assert f"{TARGET}: scorer v2 rolled back to v1 (v2 is Rejected)" in output
    text = path.read_text()
    assert f"image: fraud/serving:2.0.0\n        modelData: {key}" in text and "scorer: 1" in text
