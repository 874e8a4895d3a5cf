"""Model promotion and rollback against moto in server mode: each gate refuses on its failing condition,
an interruption at each step leaves the target as it was, and rollback restores the previous version."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber
from botocore.validate import ParamValidator

from platform_lib import aws, emulator, registry
from platform_lib.promotion import infra
from platform_lib.promotion import model as promotion

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


@dataclasses.dataclass(frozen=True)
class Threshold:
    """The shape of a model declaration's gate (``validation_accuracy >= 0.95``)."""

    metric: str
    comparison: str
    threshold: float

    def passes(self, value: float) -> bool:
        return {">=": value >= self.threshold, ">": value > self.threshold,
                "<=": value <= self.threshold, "<": value < self.threshold}[self.comparison]

    def __str__(self) -> str:
        return f"{self.metric} {self.comparison} {self.threshold:g}"


GATES = [Threshold("validation_accuracy", ">=", 0.95), Threshold("p99_latency_ms", "<", 50)]
AUDIT = promotion.Audit(actor="alice@example.com", commit="0123456789abcdef", at="2026-11-22T14:00:00Z")


@pytest.fixture(scope="module")
def moto_server():
    with emulator.running(account_id="111111111111") as server:
        yield server


@pytest.fixture
def world(moto_server, tmp_path):
    moto_server.reset()
    session = aws.session(region=REGION, max_attempts=1)
    sm, s3, kms = session.client("sagemaker"), session.client("s3"), session.client("kms")
    sides = []
    for stack, env in (("fraud-staging", "staging"), ("fraud-prod", "prod")):
        bucket = f"fraud-{env}-models-{REGION}"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        key = kms.create_key(Description=f"{stack} models")["KeyMetadata"]["Arn"]
        group = f"fraud-{env}-digits"
        sm.create_model_package_group(ModelPackageGroupName=group)
        sides.append(promotion.Side(stack=stack, sm=sm, s3=s3, group=group, bucket=bucket, key_arn=key))
    source, target = sides
    s3.put_object(Bucket=source.bucket, Key="digits/v1/model.tar.gz", Body=b"weights", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=source.key_arn)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    shutil.copy(ROOT / "stacks/Pulumi.fraud-prod.yaml", stacks / "Pulumi.fraud-prod.yaml")
    return source, target, stacks / "Pulumi.fraud-prod.yaml"


def registered(source, metrics, approve=True):
    package, _ = registry.register(source.sm, source.group, image="123.dkr.ecr.eu-west-1.amazonaws.com/serve:1",
                                   model_data_url=f"s3://{source.bucket}/digits/v1/model.tar.gz", metrics=metrics,
                                   lineage={"git_revision": "abc"})
    return registry.approve(source.sm, package, "reviewed") if approve else package


def target_state(target, stack_file):
    objects = target.s3.list_objects_v2(Bucket=target.bucket).get("Contents", [])
    packages = [(p.version, p.status) for p in registry.list_packages(target.sm, target.group)]
    return [o["Key"] for o in objects], packages, stack_file.read_text()


def promote(source, target, stack_file, package, **overrides):
    arguments: dict[str, Any] = {"plan_mandatory": 0, "rollout_healthy": (True, "no endpoint yet"),
                 "record": promotion.version_only(stack_file, "digits")} | overrides
    return promotion.promote(source, target, package, GATES, AUDIT, **arguments)


GOOD = {"validation_accuracy": 0.97, "p99_latency_ms": 12.0}


@pytest.mark.parametrize(("metrics", "approve", "overrides", "cause"), [
    (GOOD, False, {}, "is PendingManualApproval in the source environment"),
    ({"validation_accuracy": 0.90, "p99_latency_ms": 12.0}, True, {},
     "validation_accuracy = 0.9 fails the threshold 'validation_accuracy >= 0.95'"),
    ({"validation_accuracy": 0.97}, True, {}, "has no metric 'p99_latency_ms'"),
    (GOOD, True, {"plan_mandatory": 2}, "plan has 2 mandatory violation(s)"),
    (GOOD, True, {"rollout_healthy": (False, "endpoint fraud-prod-digits is Failed")},
     "not healthy: endpoint fraud-prod-digits is Failed"),
], ids=["not-approved", "below-threshold", "missing-metric", "plan-violations", "rollout-unhealthy"])
def test_each_gate_refuses_and_changes_nothing(world, metrics, approve, overrides, cause):
    source, target, stack_file = world
    package = registered(source, metrics, approve)
    before = target_state(target, stack_file)
    with pytest.raises(promotion.GateFailed, match=cause.replace("(", r"\(").replace(")", r"\)")):
        promote(source, target, stack_file, package, **overrides)
    assert target_state(target, stack_file) == before


def test_promotion_copies_reencrypts_registers_approved_with_audit_and_records_the_version(world):
    source, target, stack_file = world
    package = registered(source, GOOD)
    promoted = promote(source, target, stack_file, package)
    assert (promoted.group, promoted.version, promoted.status) == (target.group, 1, "Approved")
    assert promoted.model_data_url == (f"s3://{target.bucket}/promoted/{target.group}/fraud-staging-v1/model.tar.gz")
    head = target.s3.head_object(Bucket=target.bucket, Key=promoted.model_data_url.split("/", 3)[3])
    assert head["SSEKMSKeyId"] == target.key_arn and head["ServerSideEncryption"] == "aws:kms"
    assert promoted.metrics == GOOD and promoted.lineage == {"git_revision": "abc"}
    assert {k: v for k, v in promoted.metadata.items() if k.startswith("promotion.")} == {
        "promotion.by": "alice@example.com", "promotion.at": "2026-11-22T14:00:00Z",
        "promotion.commit": "0123456789abcdef", "promotion.from_stack": "fraud-staging",
        "promotion.from_arn": package.arn, "promotion.from_version": "1",
        "promotion.from_image": "123.dkr.ecr.eu-west-1.amazonaws.com/serve:1"}
    assert infra.model_version(stack_file, "digits") == 1
    assert "# A team stack in prod" in stack_file.read_text()  # comments kept
    again = promote(source, target, stack_file, package)  # idempotent: the same package, nothing new
    assert again.arn == promoted.arn and len(registry.list_packages(target.sm, target.group)) == 1


@pytest.mark.parametrize("step", ["copy_object", "create_model_package", "record"])
def test_an_interruption_at_each_step_leaves_the_target_unchanged(world, step, monkeypatch):
    """Each step happens on the server, then the run stops: what it made is removed again.

    moto has no DeleteModelPackage: its request is checked against SageMaker's service model and the
    deleted package is left out of the target's state.
    """
    source, target, stack_file = world
    package = registered(source, GOOD)
    before = target_state(target, stack_file)
    deleted: list[str] = []

    def delete_model_package(**request):
        operation = target.sm.meta.service_model.operation_model("DeleteModelPackage")
        report = ParamValidator().validate(request, operation.input_shape)
        assert not report.has_errors(), report.generate_report()
        deleted.append(request["ModelPackageName"])

    monkeypatch.setattr(target.sm, "delete_model_package", delete_model_package)

    class Interrupted(Exception):
        pass

    def interrupted(package, undo):
        raise Interrupted("record")

    overrides = {"record": interrupted} if step == "record" else {}
    if step != "record":
        client = target.s3 if step == "copy_object" else target.sm
        real = getattr(client, step)

        def after_the_call(*args, **kwargs):
            real(*args, **kwargs)
            raise Interrupted(step)

        monkeypatch.setattr(client, step, after_the_call)
    with pytest.raises(Interrupted):
        promote(source, target, stack_file, package, **overrides)
    keys, packages, text = target_state(target, stack_file)
    made = [p for p in registry.list_packages(target.sm, target.group) if p.arn not in deleted]
    assert (keys, [(p.version, p.status) for p in made], text) == before
    assert len(deleted) == (0 if step == "copy_object" else 1)


def test_rollback_after_a_promotion_restores_the_previous_version(world):
    source, target, stack_file = world
    first = promote(source, target, stack_file, registered(source, GOOD))
    source.s3.put_object(Bucket=source.bucket, Key="digits/v2/model.tar.gz", Body=b"weights 2")
    second_source, _ = registry.register(source.sm, source.group, image="img:2",
                                         model_data_url=f"s3://{source.bucket}/digits/v2/model.tar.gz",
                                         metrics=GOOD, lineage={"git_revision": "def"})
    second = promote(source, target, stack_file, registry.approve(source.sm, second_source))
    assert (first.version, second.version, infra.model_version(stack_file, "digits")) == (1, 2, 2)
    restored = promotion.rollback(target, 2, AUDIT, "p99 latency regression",
                                  promotion.version_only(stack_file, "digits"))
    assert restored.version == 1 and infra.model_version(stack_file, "digits") == 1
    rolled_back = registry.find(target.sm, target.group, 2)
    assert rolled_back.status == "Rejected"
    assert rolled_back.approval_description == "rolled back: p99 latency regression"
    assert rolled_back.metadata["rollback.to_version"] == "1"
    assert rolled_back.metadata["promotion.by"] == "alice@example.com"  # the promotion record survives
    with pytest.raises(promotion.GateFailed, match="no Approved version before 1"):
        promotion.rollback(target, 1, AUDIT, "again", lambda package, undo: None)


def test_rollback_interrupted_at_the_stack_file_puts_the_status_back(world):
    source, target, stack_file = world
    promote(source, target, stack_file, registered(source, GOOD))
    source.s3.put_object(Bucket=source.bucket, Key="digits/v2/model.tar.gz", Body=b"weights 2")
    second, _ = registry.register(source.sm, source.group, image="img:2", metrics=GOOD, lineage={},
                                  model_data_url=f"s3://{source.bucket}/digits/v2/model.tar.gz")
    promote(source, target, stack_file, registry.approve(source.sm, second))
    before = target_state(target, stack_file)
    current = registry.find(target.sm, target.group, 2)

    def interrupted(package, undo):
        raise OSError("disk full")

    with pytest.raises(OSError):
        promotion.rollback(target, 2, AUDIT, "regression", interrupted)
    assert target_state(target, stack_file) == before
    assert registry.find(target.sm, target.group, 2).metadata == current.metadata


def test_requests_state_status_and_metadata_together_in_botocores_real_shapes():
    """Stubber validates the requests against SageMaker's service model."""
    session = aws.session(region=REGION, max_attempts=1)
    sm = session.session.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    package = registry.Package(arn="arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud-staging-digits/1",
                               group="fraud-staging-digits", version=1, status="Approved", image="img:1",
                               model_data_url="s3://b/k", metrics={"acc": 1.0}, metadata={"metric.acc": "1"})
    request = promotion.create_request("fraud-prod-digits", package, "s3://t/k", {"metric.acc": "1",
                                       "promotion.by": "alice"}, AUDIT)
    with Stubber(sm) as stub:
        stub.add_response("create_model_package", {"ModelPackageArn": "arn:x"}, request)
        stub.add_response("update_model_package", {"ModelPackageArn": package.arn},
                          {"ModelPackageArn": package.arn, "ModelApprovalStatus": "Rejected",
                           "ApprovalDescription": ANY, "CustomerMetadataProperties": {"metric.acc": "1"}})
        sm.create_model_package(**request)
        promotion.set_status(sm, package, "Rejected", "rolled back", package.metadata)
        stub.assert_no_pending_responses()
    assert request["ModelApprovalStatus"] == "Approved" and request["CustomerMetadataProperties"]["promotion.by"]


def test_endpoint_health_of_a_target_without_an_endpoint_is_a_first_promotion(moto_server):
    sm = aws.session(region=REGION, max_attempts=1).client("sagemaker")
    assert promotion.endpoint_health(sm, "fraud-prod-digits") == (True, "no endpoint fraud-prod-digits yet")
