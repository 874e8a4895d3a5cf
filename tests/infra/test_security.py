"""Keys, the workload boundary, the CI deploy role and team execution roles, as registered under mocks."""

import json

import pytest

KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"


@pytest.mark.parametrize("stack", ["platform-prod", "fraud-prod", "fraud-dev"])
def test_keys_rotate_and_wait_before_deletion(plans, stack):
    keys = plans[stack].of_type(KEY)
    assert keys
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["deletionWindowInDays"] == 30
        assert key.retain_on_delete


def test_team_keys_per_domain_and_region(plans):
    names = sorted(k.name for k in plans["fraud-prod"].of_type(KEY))
    assert names == ["fraud-prod-alerts-euw1", "fraud-prod-alerts-use1", "fraud-prod-data-euw1",
                     "fraud-prod-models-euw1", "fraud-prod-models-use1"]
    aliases = {a.inputs["name"] for a in plans["fraud-prod"].of_type("aws:kms/alias:Alias")}
    assert aliases == {"alias/fraud-prod-alerts", "alias/fraud-prod-data", "alias/fraud-prod-models"}


def test_key_policy_is_least_privilege(plans):
    view = plans["fraud-prod"]
    policy = view.document(view.named("fraud-prod-data-euw1", KEY))
    admin, use, _grants = policy["Statement"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert "kms:Decrypt" not in admin["Action"] and "kms:*" not in admin["Action"]
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == [
        "s3.eu-west-1.amazonaws.com", "sagemaker.eu-west-1.amazonaws.com"]
    assert use["Condition"]["StringEquals"]["kms:CallerAccount"] == "222222222222"


def test_logs_key_lets_only_cloudwatch_logs_of_this_account_in(plans):
    view = plans["platform-prod"]
    policy = view.document(view.named("platform-prod-logs-use1", KEY))
    (logs,) = [s for s in policy["Statement"] if s.get("Sid") == "CloudWatchLogs"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
        "arn:aws:logs:us-east-1:222222222222:log-group:*"


def test_ci_role_is_assumed_through_github_oidc_for_its_environment_only(plans):
    view = plans["platform-prod"]
    role = view.named("platform-prod-ci-deploy", ROLE)
    (trust,) = view.document(role, "assumeRolePolicy")["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:example-org/ml-platform:environment:prod",
    }
    assert role.inputs["permissionsBoundary"].endswith(":policy/platform-prod-ci-boundary")
    assert not view.of_type("aws:iam/accessKey:AccessKey") and not view.of_type("aws:iam/user:User")


def test_ci_boundary_forbids_unbounded_roles_users_and_self_change(plans):
    view = plans["platform-prod"]
    boundary = view.document(view.named("platform-prod-ci-boundary", "aws:iam/policy:Policy"))
    denies = {s["Sid"]: s for s in boundary["Statement"] if s["Effect"] == "Deny"}
    assert denies["RolesMustCarryTheWorkloadBoundary"]["Condition"]["StringNotEquals"][
        "iam:PermissionsBoundary"] == "arn:aws:iam::222222222222:policy/platform-prod-workload-boundary"
    assert "iam:CreateAccessKey" in denies["NoUsersOrKeys"]["Action"]
    assert denies["NoSelfChange"]["Resource"] == "arn:aws:iam::222222222222:role/platform-prod-ci-deploy"


def test_every_role_carries_a_permissions_boundary(plans):
    for view in plans.values():
        for role in view.of_type(ROLE):
            assert role.inputs.get("permissionsBoundary"), f"{view.plan.stack}: {role.name}"


def test_execution_role_is_scoped_to_the_team(plans):
    view = plans["fraud-prod"]
    role = view.named("fraud-prod-sagemaker-execution", ROLE)
    (trust,) = view.document(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "222222222222"}}
    assert role.inputs["permissionsBoundary"] == "arn:aws:iam::222222222222:policy/platform-prod-workload-boundary"
    policy = view.document(view.named("fraud-prod-sagemaker-execution-policy"))
    statements = {s["Sid"]: s for s in policy["Statement"]}
    buckets = statements["TeamBuckets"]["Resource"]
    assert sorted(buckets) == sorted(f"arn:aws:s3:::{b.inputs['bucket']}" for b in view.of_type("aws:s3/bucket:Bucket")
                                     if "-logs-" not in b.inputs["bucket"])
    assert all("vision" not in arn for arn in json.dumps(policy).split('"') if arn.startswith("arn:"))
    assert len(statements["TeamKeys"]["Resource"]) == 3


LIMITS = {  # characters without whitespace, as IAM and KMS count them
    "aws:iam/policy:Policy": 6144, "aws:iam/rolePolicy:RolePolicy": 10240,
    "aws:kms/key:Key": 32768, "aws:s3/bucketPolicy:BucketPolicy": 20480,
}


def test_policy_documents_fit_aws_size_limits_and_role_names_fit(plans):
    for view in plans.values():
        for resource in view.resources:
            if resource.type in LIMITS:
                size = len(json.dumps(view.document(resource), separators=(",", ":")))
                assert size <= LIMITS[resource.type], f"{resource.name}: {size} characters"
            if resource.type == ROLE:
                assert len(resource.inputs["name"]) <= 64, resource.inputs["name"]


def test_compact_actions_keeps_each_action_once_unless_a_wildcard_covers_it():
    from infra.documents import compact_actions

    assert compact_actions(["ec2:DescribeVpcs", "s3:GetObject"], ["ec2:Describe*", "s3:GetObject", "ec2:*Tags"],
                           ["ec2:CreateTags", "ec2:DescribeTags"]) == ["s3:GetObject", "ec2:Describe*", "ec2:*Tags"]
