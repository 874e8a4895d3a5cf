"""Experiment tracking as `pulumi up` would create it: one MLflow server per platform environment,
artifacts in a guarded bucket, a least-privilege role, and every team's role allowed to track."""

import importlib.util
import json
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from infra.components.tracking import SERVER_ACTIONS, TRACKING_ACTIONS

SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
# parliament's copy of the AWS service authorization reference (read as data: its package needs pkg_resources)
IAM_DEFINITION = Path(str(getattr(importlib.util.find_spec("parliament"), "origin", ""))).parent / \
    "iam_definition.json"


@pytest.mark.parametrize("stack, account, size", [("platform-dev", "111111111111", "Small"),
                                                  ("platform-prod", "222222222222", "Medium")])
def test_one_server_per_environment_with_its_artifacts_in_the_platform_bucket(plans, stack, account, size):
    view = plans[stack]
    (server,) = view.of_type(SERVER)
    env = stack.split("-")[1]
    bucket = f"platform-{env}-mlflow-{account}-euw1"
    assert server.inputs["trackingServerName"] == f"platform-{env}-mlflow"
    assert server.inputs["artifactStoreUri"] == f"s3://{bucket}/artifacts"
    assert server.inputs["trackingServerSize"] == size
    assert server.inputs["roleArn"] == f"arn:aws:iam::{account}:role/platform-{env}-mlflow"
    assert server.inputs["automaticModelRegistration"] is False
    assert view.by_urn[server.provider].inputs["region"] == "eu-west-1"
    outputs = view.plan.outputs["tracking"]
    assert outputs["arn"] == f"arn:aws:sagemaker:eu-west-1:{account}:mlflow-tracking-server/platform-{env}-mlflow"
    assert outputs["url"].startswith("https://t-") and outputs["url"].endswith(".eu-west-1.experiments.sagemaker.aws")
    assert outputs["artifactBucket"] == bucket
    assert outputs["artifactKeyArn"].startswith(f"arn:aws:kms:eu-west-1:{account}:key/")
    # the role has its permissions before the server starts with it
    (policy,) = [p for p in view.of_type(ROLE_POLICY) if p.name == f"platform-{env}-mlflow-policy"]
    assert policy.urn in server.dependencies


def test_the_server_role_reaches_only_its_bucket_and_key(plans):
    view = plans["platform-dev"]
    role = view.named("platform-dev-mlflow", "aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"].endswith(":policy/platform-dev-workload-boundary")
    trust = view.document(role, "assumeRolePolicy")["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    statements = view.document(view.named("platform-dev-mlflow-policy"))["Statement"]
    bucket_arn = "arn:aws:s3:::platform-dev-mlflow-111111111111-euw1"
    assert [(s["Sid"], s["Resource"]) for s in statements] == [
        ("ArtifactBucket", bucket_arn), ("Artifacts", f"{bucket_arn}/*"),
        ("ArtifactKey", view.plan.outputs["tracking"]["artifactKeyArn"])]


def test_the_artifact_bucket_has_every_guard_rail(plans):
    view = plans["platform-prod"]
    bucket = view.named("platform-prod-mlflow-artifacts", "aws:s3/bucket:Bucket")
    assert bucket.protect and bucket.retain_on_delete and bucket.inputs["forceDestroy"] is False
    (sse,) = view.attached_to(bucket, "aws:s3/bucketServerSideEncryptionConfiguration:"
                                      "BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    for token in ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketVersioning:BucketVersioning",
                  "aws:s3/bucketPolicy:BucketPolicy"):
        assert len(view.attached_to(bucket, token)) == 1, token
    assert not [v for v in view.plan.violations if "mlflow" in (v.name or "")]


@pytest.mark.parametrize("stack", ["fraud-dev", "vision-prod"])
def test_every_team_role_may_track_on_its_environment_server(plans, stack):
    view = plans[stack]
    team, env = stack.split("-")
    access = view.named(f"{stack}-tracking-access", ROLE_POLICY)
    assert access.inputs["role"] == f"{stack}-sagemaker-execution"
    platform = plans[f"platform-{env}"].plan.outputs["tracking"]
    statements = {s["Sid"]: s for s in view.document(access)["Statement"]}
    assert statements["TrackExperiments"]["Resource"] == platform["arn"]
    assert statements["TrackExperiments"]["Action"] == TRACKING_ACTIONS
    assert statements["OpenTrackingServer"]["Action"] == SERVER_ACTIONS
    assert statements["Artifacts"]["Resource"] == f"arn:aws:s3:::{platform['artifactBucket']}/*"
    assert statements["ArtifactKey"]["Resource"] == platform["artifactKeyArn"]


def test_every_action_granted_exists_in_the_iam_reference():
    """Action names checked against parliament's copy of the AWS service authorization reference."""
    known = {f"{s['prefix']}:{p['privilege']}" for s in json.loads(IAM_DEFINITION.read_text())
             for p in s["privileges"]}
    assert set(TRACKING_ACTIONS + SERVER_ACTIONS) <= known


def test_the_workload_boundary_admits_the_tracking_actions(plans):
    boundary = plans["platform-dev"].named("platform-dev-workload-boundary", "aws:iam/policy:Policy")
    statements = {s["Sid"]: s for s in plans["platform-dev"].document(boundary)["Statement"]}
    mlflow = statements["Mlflow"]
    assert mlflow["Resource"] == "arn:aws:sagemaker:*:111111111111:mlflow-tracking-server/*"
    assert [a for a in TRACKING_ACTIONS if not any(fnmatchcase(a, p) for p in mlflow["Action"])] == []
