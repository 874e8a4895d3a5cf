"""Rules of issue 11: ECR repositories, SNS topics, budgets, model package group policies and the MLflow
artifact store; each compliant and non-compliant, with plain props (mlp plan) and proxied ones (CLI)."""

from __future__ import annotations

import json

import pytest

from policies.rules.ecr_repository_immutable_tags import RULE as IMMUTABLE
from policies.rules.ecr_repository_kms_encrypted import RULE as ECR_KMS
from policies.rules.ecr_repository_lifecycle_policy import RULE as LIFECYCLE
from policies.rules.ecr_repository_scan_on_push import RULE as SCAN
from policies.rules.sagemaker_mlflow_artifact_store_guarded import RULE as ARTIFACTS
from policies.rules.sagemaker_model_package_group_policy_accounts import RULE as GROUP_POLICY
from policies.rules.sns_topic_kms_encrypted import RULE as SNS
from policies.rules.team_stack_has_budget import RULE as BUDGET

ECR = "aws:ecr/repository:Repository"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e"
GUARDED = {"name": "ml-platform/training", "imageTagMutability": "IMMUTABLE",
           "imageScanningConfiguration": {"scanOnPush": True},
           "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]}
EXPIRE_UNTAGGED = json.dumps({"rules": [{"rulePriority": 1, "selection": {
    "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
    "action": {"type": "expire"}}]})


def repository(kit, **changes):
    return kit.resource(ECR, {**GUARDED, **changes}, "training")


# -- ECR -------------------------------------------------------------------------------------------

def test_a_guarded_repository_passes_every_ecr_rule(kit):
    repo = repository(kit)
    policy = kit.resource("aws:ecr/lifecyclePolicy:LifecyclePolicy",
                          {"repository": kit.unknown, "policy": EXPIRE_UNTAGGED}, "lc", deps={"repository": [repo]})
    assert kit.run(SCAN, kit.stack(repo, policy)) == [] and kit.run(LIFECYCLE, kit.stack(repo, policy)) == []
    assert kit.run(IMMUTABLE, kit.args(ECR, GUARDED)) == [] and kit.run(ECR_KMS, kit.args(ECR, GUARDED)) == []


def test_a_repository_that_does_not_scan_is_reported_unless_the_registry_scans(kit):
    repo = repository(kit, imageScanningConfiguration={"scanOnPush": False})
    [(message, urn)] = kit.run(SCAN, kit.stack(repo))
    assert urn == repo.urn and message.startswith("ECR repository 'ml-platform/training' does not scan images on push")
    enhanced = kit.resource("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", {
        "scanType": "ENHANCED", "rules": [{"scanFrequency": "CONTINUOUS_SCAN",
                                           "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}]}, "scan")
    assert kit.run(SCAN, kit.stack(repo, enhanced)) == []


@pytest.mark.parametrize("props, problem", [
    ({}, "MUTABLE (default)"), ({"imageTagMutability": "MUTABLE"}, "imageTagMutability MUTABLE")])
def test_mutable_tags_are_reported(kit, props, problem):
    [(message, _)] = kit.run(IMMUTABLE, kit.args(ECR, {"name": "x", **props}, "training"))
    assert problem in message and "required: IMMUTABLE" in message


@pytest.mark.parametrize("configurations, problem", [
    (None, "no encryptionConfigurations (AES256 by default)"),
    ([{"encryptionType": "AES256"}], "encryptionType AES256"),
    ([{"encryptionType": "KMS"}], "encryptionType KMS without kmsKey"),
    ([{"encryptionType": "KMS", "kmsKey": "alias/aws/ecr"}], "the AWS-managed key alias/aws/ecr"),
])
def test_repositories_without_a_customer_key_are_reported(kit, configurations, problem):
    props = {"name": "x"} if configurations is None else {"name": "x", "encryptionConfigurations": configurations}
    [(message, _)] = kit.run(ECR_KMS, kit.args(ECR, props, "training"))
    assert f"ECR repository 'training' has {problem}" in message and "required: encryptionType KMS" in message


def test_unknown_encryption_is_not_a_violation(kit):
    props = {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": kit.unknown}]}
    assert kit.run(ECR_KMS, kit.args(ECR, props)) == []


def test_a_repository_without_a_lifecycle_that_expires_untagged_images_is_reported(kit):
    repo = repository(kit)
    [(message, urn)] = kit.run(LIFECYCLE, kit.stack(repo))
    assert urn == repo.urn and "has no lifecycle policy" in message
    keeps_all = json.dumps({"rules": [{"rulePriority": 1, "selection": {
        "tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 5},
        "action": {"type": "expire"}}]})
    policy = kit.resource("aws:ecr/lifecyclePolicy:LifecyclePolicy", {"repository": "ml-platform/training",
                                                                       "policy": keeps_all}, "lc", dependencies=[])
    [(message, _)] = kit.run(LIFECYCLE, kit.stack(repo, policy))
    assert "a lifecycle policy that never expires untagged images" in message


# -- SNS -------------------------------------------------------------------------------------------

def test_topics_need_a_customer_key(kit):
    topic = "aws:sns/topic:Topic"
    assert kit.run(SNS, kit.args(topic, {"name": "t", "kmsMasterKeyId": KEY})) == []
    assert kit.run(SNS, kit.args(topic, {"name": "t", "kmsMasterKeyId": kit.unknown})) == []
    [(plain, _)] = kit.run(SNS, kit.args(topic, {"name": "t"}, "alerts"))
    assert plain.startswith("SNS topic 'alerts' has no kmsMasterKeyId")
    [(managed, _)] = kit.run(SNS, kit.args(topic, {"name": "t", "kmsMasterKeyId": "alias/aws/sns"}, "alerts"))
    assert "the AWS-managed key alias/aws/sns" in managed


# -- budgets ---------------------------------------------------------------------------------------

def budget(kit, cost_center="cc-1234"):
    return kit.resource("aws:budgets/budget:Budget", {
        "budgetType": "COST", "costFilters": [{"name": "TagKeyValue", "values": [f"user:cost-center${cost_center}"]}]},
        "fraud-dev-budget")


def team_provider(kit):
    return kit.provider(tags={**kit.default_tags, "ml-platform/stack": "fraud-dev"})


def test_a_team_stack_with_a_budget_on_its_cost_center_is_compliant(kit):
    assert kit.run(BUDGET, kit.stack(team_provider(kit), budget(kit))) == []


def test_a_team_stack_without_its_budget_is_reported(kit):
    [(message, urn)] = kit.run(BUDGET, kit.stack(team_provider(kit), kit.bucket()))
    assert urn is None and message.startswith("team stack of 'fraud' has no AWS Budget; required")
    # a program planned alone (no blueprint stack tag) is not a team stack
    assert kit.run(BUDGET, kit.stack(kit.provider(), kit.bucket())) == []
    [(other, _)] = kit.run(BUDGET, kit.stack(team_provider(kit), budget(kit, "someone-else")))
    assert "has no budget on its cost center" in other and "user:cost-center$cc-1234" in other


def test_platform_stacks_need_no_team_budget(kit):
    platform = kit.provider(tags={**kit.default_tags, "team": "platform"})
    assert kit.run(BUDGET, kit.stack(platform, kit.bucket())) == []


# -- model package group policies ------------------------------------------------------------------

def group_policy(kit, principal, **statement):
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
                "Action": ["sagemaker:DescribeModelPackage"], "Resource": "*", **statement}]}
    return kit.args("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
                    {"resourcePolicy": json.dumps(document)}, "fraud-dev-digits-policy")


def test_group_policies_granting_to_named_accounts_are_compliant(kit):
    args = group_policy(kit, {"AWS": ["arn:aws:iam::222222222222:root", "333333333333"]})
    assert kit.run(GROUP_POLICY, args) == []


@pytest.mark.parametrize("principal, shown", [
    ("*", "*"), ({"AWS": "*"}, "*"), ({"AWS": "arn:aws:iam::222222222222:role/anyone"},
                                      "arn:aws:iam::222222222222:role/anyone"),
    ({"Service": "sagemaker.amazonaws.com"}, "Service"),
])
def test_group_policies_granting_to_anyone_else_are_reported(kit, principal, shown):
    [(message, _)] = kit.run(GROUP_POLICY, group_policy(kit, principal))
    assert f"grants to {shown}" in message and "never '*'" in message


def test_the_organisations_accounts_can_be_pinned_in_the_pack_config(kit):
    args = group_policy(kit, {"AWS": "arn:aws:iam::444444444444:root"})
    args = type(args)(args.resource_type, args.props, args.urn, args.name, args.opts, args.provider,
                      {"allowedAccounts": ["222222222222"]}, None)
    [(message, _)] = kit.run(GROUP_POLICY, args)
    assert "grants to arn:aws:iam::444444444444:root" in message


# -- MLflow artifact store -------------------------------------------------------------------------

def server(kit, uri, deps=None):
    return kit.resource("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
                        {"trackingServerName": "platform-dev-mlflow", "artifactStoreUri": uri}, "mlflow",
                        deps=deps)


def test_an_artifact_store_in_a_bucket_of_the_stack_is_compliant(kit):
    bucket = kit.bucket("mlflow")
    assert kit.run(ARTIFACTS, kit.stack(bucket, server(kit, "s3://fraud-dev-mlflow/artifacts"))) == []
    linked = server(kit, kit.unknown, deps={"artifactStoreUri": [bucket]})
    assert kit.run(ARTIFACTS, kit.stack(bucket, linked)) == []


def test_an_artifact_store_outside_the_stack_or_in_a_log_bucket_is_reported(kit):
    outside = server(kit, "s3://somebody-elses-bucket/mlflow")
    [(message, urn)] = kit.run(ARTIFACTS, kit.stack(kit.bucket("mlflow"), outside))
    assert urn == outside.urn and "bucket 'somebody-elses-bucket', which is not a bucket of this stack" in message
    logs = kit.bucket("logs", tags={"ml-platform/purpose": "logs"})
    [(message, _)] = kit.run(ARTIFACTS, kit.stack(logs, server(kit, "s3://fraud-dev-logs/artifacts")))
    assert "stores artifacts in the log bucket 'fraud-dev-logs'" in message
