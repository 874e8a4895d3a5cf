"""Promotion and rollback of a model the target stack serves, against moto in server mode: the promoted
package is released through the stack as `mlp deploy` does (image, modelData and modelVersions in the stack
file, the real offline plan, the artifact in every served region, `pulumi up` or its command), and a run
interrupted at each of these steps leaves the target as it was. The Automation API is replaced at its
boundary (`pulumi.automation.select_stack`): there is no Pulumi CLI or backend on this machine."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import ParamValidator

from platform_lib import aws, emulator, registry, stack_release
from platform_lib.contract import TeamOutputs
from platform_lib.promotion import infra
from platform_lib.promotion import model as promotion

ROOT = Path(__file__).resolve().parents[2]
PRIMARY, OTHER = "eu-west-1", "us-east-1"
PROD, STAGING = "222222222222", "333333333333"
AUDIT = promotion.Audit(actor="alice@example.com", commit="0123456789abcdef", at="2026-11-22T14:00:00Z")
GOOD = {"validation_accuracy": 0.97}


@dataclasses.dataclass(frozen=True)
class Threshold:
    metric: str
    threshold: float

    def passes(self, value: float) -> bool:
        return value >= self.threshold

    def __str__(self) -> str:
        return f"{self.metric} >= {self.threshold:g}"


GATES = [Threshold("validation_accuracy", 0.9)]      # fraud-prod's declaration of scorer


@pytest.fixture(scope="module")
def moto_server():
    with emulator.running(account_id=PROD) as server:
        yield server


@dataclasses.dataclass
class World:
    session: aws.Aws
    source: promotion.Side
    target: promotion.Side
    team: TeamOutputs
    project: Path
    path: Path                   # fraud-prod's stack file
    said: list[str]

    def release(self) -> promotion.StackRelease:
        served = stack_release.owner(self.path, "scorer")
        assert served is not None and served.served_regions == [PRIMARY, OTHER]
        return promotion.StackRelease("fraud-prod", self.path, "scorer", served, self.session, self.team,
                                      self.project, self.said.append, "mlp promote model")

    def state(self) -> tuple[dict[str, list[str]], list[tuple[int, str]], str]:
        objects = {region: [o["Key"] for o in self.session.client("s3", region).list_objects_v2(
            Bucket=bucket).get("Contents", [])] for region, bucket in self.team.models_buckets.items()}
        packages = [(p.version, p.status) for p in registry.list_packages(self.target.sm, self.target.group)]
        return objects, packages, self.path.read_text()


@pytest.fixture
def world(moto_server, tmp_path, monkeypatch) -> World:
    """fraud-staging's registry and models bucket; fraud-prod's in two regions; a project with the stacks
    fraud-prod plans against. No Pulumi CLI unless a test says otherwise."""
    moto_server.reset()
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    session = aws.session(region=PRIMARY, max_attempts=1)
    sm = session.client("sagemaker")
    buckets, keys = {}, {}
    for region in (PRIMARY, OTHER):
        s3 = session.client("s3", region)
        buckets[region] = f"fraud-prod-models-{PROD}-{region}"
        where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=buckets[region], **where)
        kms = session.client("kms", region)
        keys[region] = kms.create_key(Description=f"prod models {region}")["KeyMetadata"]["Arn"]
    team = TeamOutputs.model_validate({
        "kind": "team", "team": "fraud", "environment": "prod", "account_id": PROD, "primary_region": PRIMARY,
        "buckets": {}, "models_buckets": buckets, "key_arns": {"models": keys}, "log_buckets": {},
        "execution_role_arn": f"arn:aws:iam::{PROD}:role/fraud-prod-execution"})
    source_bucket = f"fraud-staging-models-{STAGING}-{PRIMARY}"
    session.client("s3").create_bucket(Bucket=source_bucket, CreateBucketConfiguration={"LocationConstraint": PRIMARY})
    source_key = session.client("kms").create_key(Description="staging models")["KeyMetadata"]["Arn"]
    for group in ("fraud-staging-scorer", "fraud-prod-scorer"):
        sm.create_model_package_group(ModelPackageGroupName=group)
    source = promotion.Side("fraud-staging", sm, session.client("s3"), "fraud-staging-scorer", source_bucket,
                            source_key, STAGING, PRIMARY)
    target = promotion.Side("fraud-prod", sm, session.client("s3"), "fraud-prod-scorer", buckets[PRIMARY],
                            keys[PRIMARY], PROD, PRIMARY)
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    for stack in ("platform-prod", "fraud-prod"):
        shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", project / "stacks")
    return World(session, source, target, team, project, project / "stacks" / "Pulumi.fraud-prod.yaml", [])


def push(session: aws.Aws, tag: str) -> None:
    """fraud/serving:<tag> in the target account's ECR (CI pushes each release to every environment's)."""
    emulator.push_image(session, "fraud/serving", tag)


def approved(world: World, tag: str = "2.0.0", name: str = "model.tar.gz", pushed: bool = True) -> registry.Package:
    """An Approved staging version: its image in staging's ECR (and, ``pushed``, in prod's), its artifact in
    staging's models bucket."""
    if pushed:
        push(world.session, tag)
    source = world.source
    key = f"scorer/{tag}/{name}"
    source.s3.put_object(Bucket=source.bucket, Key=key, Body=f"weights {tag}".encode(),
                         ServerSideEncryption="aws:kms", SSEKMSKeyId=source.key_arn)
    package, _ = registry.register(source.sm, source.group, image=f"{STAGING}.dkr.ecr.{PRIMARY}.amazonaws.com/"
                                   f"fraud/serving:{tag}", model_data_url=f"s3://{source.bucket}/{key}",
                                   metrics=GOOD, lineage={"git_revision": "abc"})
    return registry.approve(source.sm, package, "reviewed")


def promote(world: World, package: registry.Package, release: promotion.StackRelease | None = None):
    release = release or world.release()
    return promotion.promote(world.source, world.target, package, GATES, AUDIT, plan_mandatory=0,
                             rollout_healthy=(True, "no endpoint yet"), record=release, check=release.promotable)


def served_file(original: str, tag: str, key: str, version: int) -> str:
    """fraud-prod's stack file with exactly the release's three values changed; every comment kept."""
    text = original.replace("image: fraud/serving:1.4.0\n        modelData: scorer/3/model.tar.gz",
                            f"image: fraud/serving:{tag}\n        modelData: {key}")
    return text + f"  ml-platform:modelVersions:\n    scorer: {version}\n"


def key_of(package: registry.Package) -> str:
    return package.model_data_url.split("/", 3)[3]


@pytest.mark.slow
def test_a_promotion_releases_the_package_through_the_target_stack(world):
    original = world.path.read_text()
    release = world.release()
    promoted = promote(world, approved(world), release)
    key = "promoted/fraud-prod-scorer/fraud-staging-v1/model.tar.gz"
    assert (promoted.version, promoted.status, key_of(promoted)) == (1, "Approved", key)
    # the target serves its own account's replica of the image; the audit record names the source's
    assert promoted.image == f"{PROD}.dkr.ecr.{PRIMARY}.amazonaws.com/fraud/serving:2.0.0"
    assert promoted.metadata["promotion.from_image"] == f"{STAGING}.dkr.ecr.{PRIMARY}.amazonaws.com/fraud/serving:2.0.0"
    assert world.path.read_text() == served_file(original, "2.0.0", key, 1)
    other = world.session.client("s3", OTHER)
    head = other.head_object(Bucket=world.team.models_buckets[OTHER], Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", world.team.key_arns["models"][OTHER])
    assert other.get_object(Bucket=world.team.models_buckets[OTHER], Key=key)["Body"].read() == b"weights 2.0.0"
    shipped = release.shipped
    assert shipped is not None and shipped.copied == [OTHER] and shipped.applied.result is None
    assert shipped.applied.command == (
        f"pulumi up --stack fraud-prod --cwd {world.project} --policy-pack {world.project}/policies "
        f"--policy-pack-config {world.project}/policies/config/prod.json")
    assert any("checking the offline plan" in line for line in world.said)
    before = world.state()
    again = promote(world, registry.find(world.source.sm, world.source.group, 1))   # idempotent
    assert again.arn == promoted.arn and world.state() == before


@pytest.mark.slow
def test_with_the_pulumi_cli_the_promotion_is_applied_on_the_recorded_file(world, monkeypatch):
    from pulumi import automation

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/local/bin/pulumi" if name == "pulumi" else None)
    calls: list[dict[str, Any]] = []

    class Stack:
        def up(self, **kwargs):
            calls.append({**kwargs, "file then": world.path.read_text()})
            return type("UpResult", (), {"summary": type("Summary", (), {"result": "succeeded"})()})()

    def select_stack(**kwargs):
        calls.append(kwargs)
        return Stack()

    monkeypatch.setattr(automation, "select_stack", select_stack)
    original = world.path.read_text()
    release = world.release()
    promote(world, approved(world), release)
    selected, up = calls
    assert selected == {"stack_name": "fraud-prod", "work_dir": str(world.project)}
    assert up["message"] == "mlp promote model: fraud-prod"
    assert up["policy_pack_configs"] == [str(world.project / "policies" / "config" / "prod.json")]
    assert up["file then"] == served_file(original, "2.0.0", "promoted/fraud-prod-scorer/fraud-staging-v1/"
                                          "model.tar.gz", 1)
    assert release.shipped is not None and release.shipped.applied.result == "succeeded"


class Interrupted(Exception):
    pass


@pytest.fixture
def deleted_packages(world, monkeypatch) -> list[str]:
    """moto has no DeleteModelPackage: the request is checked against SageMaker's service model and the
    deleted package left out of the target's state."""
    deleted: list[str] = []

    def delete_model_package(**request):
        operation = world.target.sm.meta.service_model.operation_model("DeleteModelPackage")
        report = ParamValidator().validate(request, operation.input_shape)
        assert not report.has_errors(), report.generate_report()
        deleted.append(request["ModelPackageName"])

    monkeypatch.setattr(world.target.sm, "delete_model_package", delete_model_package)
    return deleted


def without(state, deleted: list[str], world: World):
    objects, _, text = state
    made = [(p.version, p.status) for p in registry.list_packages(world.target.sm, world.target.group)
            if p.arn not in deleted]
    return objects, made, text


@pytest.mark.slow
@pytest.mark.parametrize("step", ["plan", "regional copy", "apply"])
def test_a_promotion_interrupted_at_each_release_step_leaves_the_target_unchanged(world, deleted_packages, step,
                                                                                   monkeypatch):
    """plan: the real offline plan refuses the edited file (a modelData the schema does not allow); regional
    copy: the copy into us-east-1 happens, then the run stops; apply: `pulumi up` fails."""
    from pulumi import automation

    package = approved(world, name="model v1.tar.gz" if step == "plan" else "model.tar.gz")
    before = world.state()
    expected: type[BaseException] = Interrupted
    if step == "plan":
        expected = stack_release.ReleaseRefused
    elif step == "regional copy":
        other = world.session.client("s3", OTHER)
        real = other.copy_object

        def copy_then_stop(**kwargs):
            real(**kwargs)
            raise Interrupted(step)

        monkeypatch.setattr(other, "copy_object", copy_then_stop)
    else:
        monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/local/bin/pulumi")

        class Stack:
            def up(self, **kwargs):
                raise Interrupted("update failed: endpoint fraud-prod-scorer-euw1 rolled back")

        monkeypatch.setattr(automation, "select_stack", lambda **kwargs: Stack())
        expected = stack_release.ApplyFailed
    with pytest.raises(expected) as raised:
        promote(world, package)
    if step == "plan":
        assert "does not plan" in str(raised.value) and "modelData" in str(raised.value)
    if step == "apply":
        assert raised.value.command.startswith("pulumi up --stack fraud-prod ")   # type: ignore[attr-defined]
    assert without(world.state(), deleted_packages, world) == before
    assert len(deleted_packages) == 1       # the package this run registered


@pytest.mark.slow
def test_a_source_image_outside_ecr_is_refused_before_anything_is_copied(world):
    source = world.source
    source.s3.put_object(Bucket=source.bucket, Key="scorer/x/model.tar.gz", Body=b"w")
    package, _ = registry.register(source.sm, source.group, image="ml-serving:cpu", metrics=GOOD, lineage={},
                                   model_data_url=f"s3://{source.bucket}/scorer/x/model.tar.gz")
    before = world.state()
    with pytest.raises(promotion.GateFailed, match="runs 'ml-serving:cpu', not an ECR image"):
        promote(world, registry.approve(source.sm, package, "ok"))
    assert world.state() == before


@pytest.mark.slow
def test_an_image_missing_from_the_targets_ecr_is_refused_before_anything_is_copied(world):
    package = approved(world, "2.2.0", pushed=False)
    before = world.state()
    with pytest.raises(promotion.GateFailed, match=r"fraud-prod cannot serve it: fraud/serving:2.2.0 is not in the "
                       r"ECR of account 222222222222 in eu-west-1 \(RepositoryNotFoundException\); push the image"):
        promote(world, package)
    assert world.state() == before


@pytest.mark.slow
def test_rollback_releases_the_previous_version_through_the_stack_and_a_failed_apply_puts_it_all_back(
        world, monkeypatch):
    from pulumi import automation

    original = world.path.read_text()
    promote(world, approved(world, "2.0.0"))
    promote(world, approved(world, "2.1.0"))
    assert infra.model_version(world.path, "scorer") == 2
    promoted = world.state()

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/local/bin/pulumi")

    class Failing:
        def up(self, **kwargs):
            raise RuntimeError("update failed")

    monkeypatch.setattr(automation, "select_stack", lambda **kwargs: Failing())
    with pytest.raises(stack_release.ApplyFailed):
        promotion.rollback(world.target, 2, AUDIT, "latency", world.release())
    assert world.state() == promoted                       # v2 Approved again, the file as it was
    assert "rollback.by" not in registry.find(world.target.sm, world.target.group, 2).metadata

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    ecr = world.session.client("ecr")
    ecr.batch_delete_image(repositoryName="fraud/serving", imageIds=[{"imageTag": "2.0.0"}])   # expired
    release = world.release()
    with pytest.raises(promotion.GateFailed, match="fraud/serving:2.0.0 is not in the ECR"):
        promotion.rollback(world.target, 2, AUDIT, "latency", release, check=release.servable)
    assert world.state() == promoted
    push(world.session, "2.0.0")
    restored = promotion.rollback(world.target, 2, AUDIT, "latency", release, check=release.servable)
    assert restored.version == 1
    assert world.path.read_text() == served_file(original, "2.0.0", "promoted/fraud-prod-scorer/fraud-staging-v1/"
                                                 "model.tar.gz", 1)
    rolled_back = registry.find(world.target.sm, world.target.group, 2)
    assert (rolled_back.status, rolled_back.metadata["rollback.to_version"]) == ("Rejected", "1")
    assert release.shipped is not None and release.shipped.copied == [OTHER]


def test_a_model_served_on_kubernetes_by_the_stack_is_released_through_it_too():
    """vision-prod serves defects on its clusters: the Deployment reads image and modelData from the stack
    file as an endpoint does, so promotion and rollback release it the same way (`mlp deploy --target
    sagemaker` asks for SageMaker declarations only)."""
    path = ROOT / "stacks" / "Pulumi.vision-prod.yaml"
    served = stack_release.owner(path, "defects", targets=("sagemaker", "kubernetes"))
    assert served is not None and served.target == "kubernetes" and served.image == "vision/serving:2.1.0"
    assert stack_release.owner(path, "defects") is None
    item = stack_release.Release("vision-prod", "defects", 4, "vision/serving:2.2.0",
                                 "promoted/vision-prod-defects/vision-staging-v7/model.tar.gz", path)
    edited = stack_release.edited_text(path.read_text(), item)
    assert "image: vision/serving:2.2.0" in edited and "promoted/vision-prod-defects/vision-staging-v7/" in edited
    assert edited.endswith("  ml-platform:modelVersions:\n    defects: 4\n")
