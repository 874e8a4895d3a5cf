"""KMS rotation, required tags, log groups, prod protection."""

from __future__ import annotations

import pytest

from policies.rules.cloudwatch_log_group_encrypted_retained import RULE as LOG_GROUPS
from policies.rules.kms_key_rotation_enabled import RULE as ROTATION
from policies.rules.prod_stateful_resources_protected import RULE as PROTECTED
from policies.rules.prod_stateful_resources_protected import STATEFUL_TYPES
from policies.rules.required_tags import RULE as TAGS

KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e"

# -- KMS rotation -------------------------------------------------------------------------------


def test_rotating_symmetric_key_is_compliant(kit):
    assert kit.run(ROTATION, kit.args(KEY, {"enableKeyRotation": True})) == []


@pytest.mark.parametrize("props", [{}, {"enableKeyRotation": False},
                                   {"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT"}])
def test_symmetric_key_without_rotation_is_reported(kit, props):
    [(message, _)] = kit.run(ROTATION, kit.args(KEY, props, "fraud-dev-data"))
    assert "KMS key 'fraud-dev-data'" in message and "enableKeyRotation=true" in message


@pytest.mark.parametrize("props", [
    {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"},
    {"customerMasterKeySpec": "HMAC_256", "keyUsage": "GENERATE_VERIFY_MAC"},
    {"customKeyStoreId": "cks-1234"},
])
def test_keys_that_cannot_rotate_are_skipped(kit, props):
    assert kit.run(ROTATION, kit.args(KEY, props)) == []


def test_unknown_rotation_is_not_a_violation(kit):
    assert kit.run(ROTATION, kit.args(KEY, {"enableKeyRotation": kit.unknown_bool})) == []


# -- required tags ------------------------------------------------------------------------------

def test_provider_default_tags_satisfy_required_tags(kit):
    assert kit.run(TAGS, kit.args("aws:s3/bucket:Bucket", {"bucket": "b"})) == []


def test_provider_default_tags_as_dict_are_read(kit):
    assert kit.run(TAGS, kit.args("aws:s3/bucket:Bucket", {}, provider=kit.provider(as_json=False))) == []


def test_own_tags_complete_missing_defaults(kit):
    provider = kit.provider({"team": "fraud"})
    props = {"tags": {"env": "dev", "cost-center": "cc-1"}}
    assert kit.run(TAGS, kit.args("aws:kms/key:Key", props, provider=provider)) == []


def test_missing_tags_are_named(kit):
    provider = kit.provider({"team": "fraud"})
    [(message, _)] = kit.run(TAGS, kit.args("aws:ecr/repository:Repository", {}, "images", provider=provider))
    assert "aws:ecr/repository:Repository 'images' is missing tag(s) env, cost-center" in message
    assert "team, env, cost-center" in message


def test_no_provider_and_no_tags_is_reported(kit):
    [(message, _)] = kit.run(TAGS, kit.args("aws:sagemaker/featureGroup:FeatureGroup", {}, "fg", provider=None))
    assert message.startswith("aws:sagemaker/featureGroup:FeatureGroup 'fg' is missing tag(s) team, env, cost-center;")


def test_bad_env_value_is_reported(kit):
    provider = kit.provider({**kit.default_tags, "env": "production"})
    [(message, _)] = kit.run(TAGS, kit.args("aws:s3/bucket:Bucket", {}, provider=provider))
    assert "env='production'" in message and "dev/staging/prod" in message


@pytest.mark.parametrize("resource_type", [
    "aws:s3/bucketPolicy:BucketPolicy", "aws:iam/rolePolicy:RolePolicy",
    "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:autoscaling/group:Group",
    "pulumi:providers:aws", "kubernetes:core/v1:Namespace",
])
def test_untaggable_types_need_no_tags(kit, resource_type):
    assert kit.run(TAGS, kit.args(resource_type, {}, provider=None)) == []


def test_unknown_own_tags_are_not_a_violation(kit):
    provider = kit.provider({"team": "fraud"})
    assert kit.run(TAGS, kit.args("aws:s3/bucket:Bucket", {"tags": kit.unknown}, provider=provider)) == []


def test_known_tags_all_is_authoritative(kit):
    props = {"tags": kit.unknown, "tagsAll": dict(kit.default_tags)}
    assert kit.run(TAGS, kit.args("aws:s3/bucket:Bucket", props, provider=None)) == []


# -- log groups ---------------------------------------------------------------------------------

def test_encrypted_retained_log_group_is_compliant(kit):
    assert kit.run(LOG_GROUPS, kit.args(LOG_GROUP, {"kmsKeyId": KEY_ARN, "retentionInDays": 30.0})) == []


@pytest.mark.parametrize("props, problems", [
    ({}, ["no kmsKeyId", "no retentionInDays"]),
    ({"kmsKeyId": KEY_ARN, "retentionInDays": 0.0}, ["no retentionInDays (kept forever)"]),
    ({"retentionInDays": 14}, ["no kmsKeyId"]),
])
def test_unencrypted_or_unretained_log_group_is_reported(kit, props, problems):
    [(message, _)] = kit.run(LOG_GROUPS, kit.args(LOG_GROUP, props, "/aws/eks/platform"))
    assert "log group '/aws/eks/platform'" in message and "required: kmsKeyId" in message
    assert all(p in message for p in problems)


def test_minimum_retention_comes_from_policy_config(kit):
    props = {"kmsKeyId": KEY_ARN, "retentionInDays": 30}
    [(message, _)] = kit.run(LOG_GROUPS, kit.args(LOG_GROUP, props, config={"minRetentionDays": 365}))
    assert "retentionInDays=30 (< 365)" in message


def test_unknown_log_group_values_are_not_violations(kit):
    assert kit.run(LOG_GROUPS, kit.args(LOG_GROUP, {"kmsKeyId": kit.unknown, "retentionInDays": 7})) == []


# -- prod protection ----------------------------------------------------------------------------

def prod(kit):
    return kit.provider({**kit.default_tags, "env": "prod"})


def test_protected_prod_bucket_is_compliant(kit):
    assert kit.run(PROTECTED, kit.args("aws:s3/bucket:Bucket", {}, protect=True, provider=prod(kit))) == []


@pytest.mark.parametrize("resource_type", sorted(STATEFUL_TYPES))
def test_unprotected_prod_stateful_resource_is_reported(kit, resource_type):
    [(message, _)] = kit.run(PROTECTED, kit.args(resource_type, {}, "store", provider=prod(kit)))
    assert f"{resource_type} 'store'" in message and "protect=True" in message


def test_dev_resources_and_stateless_types_are_not_checked(kit):
    assert kit.run(PROTECTED, kit.args("aws:s3/bucket:Bucket", {})) == []
    assert kit.run(PROTECTED, kit.args("aws:ec2/vpc:Vpc", {}, provider=prod(kit))) == []


def test_env_tag_on_the_resource_wins(kit):
    props = {"tags": {"env": "prod"}}
    [(message, _)] = kit.run(PROTECTED, kit.args("aws:kms/key:Key", props, "key"))
    assert message.startswith("aws:kms/key:Key 'key' holds state in prod but is not protected")
