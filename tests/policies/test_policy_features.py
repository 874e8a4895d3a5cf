"""Feature store and data catalog rules: feature group encryption, offline store bucket, Glue catalog
encryption, Athena workgroups."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules.athena_workgroup_kms_and_scan_limit import RULE as ATHENA
from policies.rules.glue_catalog_kms_encrypted import RULE as CATALOG
from policies.rules.sagemaker_feature_group_kms_encrypted import RULE as FG_KMS
from policies.rules.sagemaker_feature_group_offline_store_team_bucket import RULE as FG_BUCKET

FG = "aws:sagemaker/featureGroup:FeatureGroup"
WORKGROUP = "aws:athena/workgroup:Workgroup"
SETTINGS = "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e"


def feature_group(online_key=KEY_ARN, offline_key=KEY_ARN, uri="s3://fraud-dev-features/offline-store",
                  online=True, offline=True):
    props: dict[str, Any] = {"featureGroupName": "fraud-dev-transactions"}
    if online:
        props["onlineStoreConfig"] = {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": online_key}
                                      if online_key else {}}
    if offline:
        props["offlineStoreConfig"] = {"s3StorageConfig": {"s3Uri": uri, **({"kmsKeyId": offline_key}
                                                                           if offline_key else {})}}
    return props


# -- feature group encryption ---------------------------------------------------------------------

def test_feature_group_with_cmk_on_both_stores_is_compliant(kit):
    assert kit.run(FG_KMS, kit.args(FG, feature_group())) == []
    assert kit.run(FG_KMS, kit.args(FG, feature_group(online=False))) == []


@pytest.mark.parametrize("props, problem", [
    (feature_group(online_key=None), "its online store has no securityConfig.kmsKeyId (AWS-owned key)"),
    (feature_group(offline_key=None), "its offline store has no s3StorageConfig.kmsKeyId (AWS-owned key)"),
    (feature_group(online_key="alias/aws/sagemaker"), "AWS-managed key 'alias/aws/sagemaker'"),
])
def test_feature_group_without_cmk_is_reported(kit, props, problem):
    [(message, _)] = kit.run(FG_KMS, kit.args(FG, props))
    assert message.startswith("feature group 'fraud-dev-transactions': ") and problem in message
    assert "required: onlineStoreConfig.securityConfig.kmsKeyId" in message


def test_unknown_keys_are_not_violations(kit):
    assert kit.run(FG_KMS, kit.args(FG, feature_group(online_key=kit.unknown, offline_key=kit.unknown))) == []


# -- offline store bucket -------------------------------------------------------------------------

def test_offline_store_in_a_team_bucket_is_compliant(kit):
    bucket = kit.bucket("features")
    group = kit.resource(FG, feature_group(), "fraud-dev-transactions")
    assert kit.run(FG_BUCKET, kit.stack(bucket, group)) == []


def test_offline_store_outside_the_stack_is_reported(kit):
    group = kit.resource(FG, feature_group(uri="s3://someone-elses-bucket/x"), "fraud-dev-transactions")
    [(message, urn)] = kit.run(FG_BUCKET, kit.stack(kit.bucket("features"), group))
    assert urn == group.urn
    assert "bucket 'someone-elses-bucket', which is not a bucket of this stack" in message


def test_offline_store_in_another_teams_or_a_log_bucket_is_reported(kit):
    other = kit.resource("aws:s3/bucket:Bucket", {"bucket": "vision-dev-features", "tags": {"team": "vision"}},
                         "vision-dev-features")
    group = kit.resource(FG, feature_group(uri="s3://vision-dev-features/o"), "fraud-dev-transactions")
    [(message, _)] = kit.run(FG_BUCKET, kit.stack(other, group))
    assert "of team 'fraud' writes its offline store to bucket 'vision-dev-features' of team 'vision'" in message
    logs = kit.bucket("logs", tags={"ml-platform/purpose": "logs"})
    group = kit.resource(FG, feature_group(uri="s3://fraud-dev-logs/o"), "fraud-dev-transactions")
    [(message, _)] = kit.run(FG_BUCKET, kit.stack(logs, group))
    assert "to the log bucket 'fraud-dev-logs'" in message


def test_unknown_offline_uri_linked_to_a_team_bucket_is_compliant(kit):
    bucket = kit.bucket("features")
    group = kit.resource(FG, feature_group(uri=kit.unknown), "fraud-dev-transactions",
                         deps={"offlineStoreConfig": [bucket]})
    assert kit.run(FG_BUCKET, kit.stack(bucket, group)) == []


# -- Glue catalog encryption ----------------------------------------------------------------------

def catalog(mode="SSE-KMS", key=KEY_ARN, returned=True, password_key=KEY_ARN):
    return {"dataCatalogEncryptionSettings": {
        "encryptionAtRest": {"catalogEncryptionMode": mode, **({"sseAwsKmsKeyId": key} if key else {})},
        "connectionPasswordEncryption": {"returnConnectionPasswordEncrypted": returned,
                                         **({"awsKmsKeyId": password_key} if password_key else {})}}}


def test_catalog_encrypted_with_cmk_is_compliant(kit):
    assert kit.run(CATALOG, kit.args(SETTINGS, catalog())) == []


@pytest.mark.parametrize("props, problem", [
    (catalog(mode="DISABLED"), "catalogEncryptionMode 'DISABLED'"),
    (catalog(key=None), "SSE-KMS without sseAwsKmsKeyId"),
    (catalog(returned=False), "connection passwords returned in clear text"),
    (catalog(password_key=None), "connection passwords without awsKmsKeyId"),
])
def test_catalog_without_cmk_is_reported(kit, props, problem):
    [(message, _)] = kit.run(CATALOG, kit.args(SETTINGS, props, "platform-dev-catalog-encryption-euw1"))
    assert message.startswith("Glue catalog encryption 'platform-dev-catalog-encryption-euw1': ")
    assert problem in message


# -- Athena workgroups ----------------------------------------------------------------------------

def workgroup(option="SSE_KMS", key=KEY_ARN, limit=10 * 1024 ** 3, enforce=True):
    encryption = {"encryptionOption": option, **({"kmsKeyArn": key} if key else {})} if option else None
    config = {"enforceWorkgroupConfiguration": enforce,
              "resultConfiguration": {"outputLocation": "s3://b/athena/", **(
                  {"encryptionConfiguration": encryption} if encryption else {})}}
    if limit is not None:
        config["bytesScannedCutoffPerQuery"] = limit
    return {"name": "fraud-dev-analytics", "configuration": config}


def test_workgroup_with_kms_and_limit_is_compliant(kit):
    assert kit.run(ATHENA, kit.args(WORKGROUP, workgroup())) == []


@pytest.mark.parametrize("props, problem", [
    (workgroup(limit=None), "no bytesScannedCutoffPerQuery"),
    (workgroup(option="SSE_S3"), "results encrypted with 'SSE_S3'"),
    (workgroup(option=None), "unencrypted results"),
    (workgroup(key=None), "SSE_KMS results without kmsKeyArn"),
    (workgroup(enforce=False), "enforceWorkgroupConfiguration=false"),
])
def test_workgroup_without_kms_or_limit_is_reported(kit, props, problem):
    [(message, _)] = kit.run(ATHENA, kit.args(WORKGROUP, props))
    assert message.startswith("Athena workgroup 'fraud-dev-analytics': ") and problem in message


def test_unknown_workgroup_configuration_is_not_a_violation(kit):
    assert kit.run(ATHENA, kit.args(WORKGROUP, {"name": "w", "configuration": kit.unknown})) == []
