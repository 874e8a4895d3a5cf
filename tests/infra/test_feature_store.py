"""The feature store and data catalog: alone from its args, and in the planned fraud stacks."""

from __future__ import annotations

import json

import pytest

from infra.components.feature_store import CatalogEncryption, CatalogEncryptionArgs, FeatureStore, FeatureStoreArgs
from platform_lib.config.schema.features import FeaturesConfig

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
BOUNDARY = "arn:aws:iam::123456789012:policy/platform-dev-workload-boundary"
FG = "aws:sagemaker/featureGroup:FeatureGroup"
GROUPS = FeaturesConfig.model_validate({"groups": [
    {"name": "transactions", "description": "tx", "recordIdentifier": "card_id", "eventTime": "ts",
     "features": [{"name": "card_id", "type": "String"}, {"name": "ts", "type": "String"},
                  {"name": "amount", "type": "Fractional"}],
     "onlineStore": {"ttl": "30d"}},
    {"name": "profile", "description": "p", "recordIdentifier": "id", "eventTime": "ts",
     "features": [{"name": "id", "type": "Integral"}, {"name": "ts", "type": "Fractional"},
                  {"name": "flags", "type": "String", "list": True}],
     "offlineStore": {"enabled": False}},
    {"name": "history", "description": "h", "recordIdentifier": "id", "eventTime": "ts",
     "features": [{"name": "id", "type": "String"}, {"name": "ts", "type": "String"}],
     "onlineStore": {"enabled": False}},
]}).groups


def store_args(names, protect=False):
    return FeatureStoreArgs(names, "eu-west-1", GROUPS, features_bucket="fraud-dev-features-123456789012-euw1",
                            curated_bucket="fraud-dev-curated-123456789012-euw1", data_key_arn=KEY_ARN,
                            permissions_boundary=BOUNDARY, query_limit_gb=10, crawler_schedule="cron(0 3 * * ? *)",
                            protect=protect)


def test_feature_groups_follow_their_declarations(component, team_names):
    view = component(lambda p: FeatureStore("fs", store_args(team_names), p["eu-west-1"]))
    tx = view.named("fraud-dev-transactions", FG).inputs
    assert tx["featureGroupName"] == "fraud-dev-transactions"
    assert (tx["recordIdentifierFeatureName"], tx["eventTimeFeatureName"]) == ("card_id", "ts")
    assert tx["featureDefinitions"] == [{"featureName": "card_id", "featureType": "String"},
                                        {"featureName": "ts", "featureType": "String"},
                                        {"featureName": "amount", "featureType": "Fractional"}]
    assert tx["onlineStoreConfig"] == {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": KEY_ARN},
                                       "storageType": "Standard", "ttlDuration": {"unit": "Days", "value": 30}}
    assert tx["offlineStoreConfig"] == {
        "s3StorageConfig": {"s3Uri": "s3://fraud-dev-features-123456789012-euw1/offline-store", "kmsKeyId": KEY_ARN},
        "tableFormat": "Iceberg",
        "dataCatalogConfig": {"catalog": "AwsDataCatalog", "database": "fraud_dev_lake",
                              "tableName": "fraud_dev_transactions"}}
    assert tx["roleArn"] == "arn:aws:iam::123456789012:role/fraud-dev-feature-store"
    profile = view.named("fraud-dev-profile", FG).inputs
    assert profile["onlineStoreConfig"]["storageType"] == "InMemory"     # list features live there only
    assert profile["featureDefinitions"][2] == {"featureName": "flags", "featureType": "String",
                                                "collectionType": "List"}
    assert "offlineStoreConfig" not in profile
    assert "onlineStoreConfig" not in view.named("fraud-dev-history", FG).inputs


def test_stateful_resources_are_retained_and_protected_when_asked(component, team_names):
    view = component(lambda p: FeatureStore("fs", store_args(team_names, protect=True), p["eu-west-1"]))
    stateful = view.of_type(FG) + view.of_type("aws:glue/catalogDatabase:CatalogDatabase")
    assert len(stateful) == 4 and all(r.protect and r.retain_on_delete for r in stateful)
    assert all(r.parent for r in view.resources if r.type.startswith("aws:") and r.type != "pulumi:providers:aws")


def test_feature_store_role_reaches_only_its_prefix_key_and_tables(component, team_names):
    view = component(lambda p: FeatureStore("fs", store_args(team_names), p["eu-west-1"]))
    role = view.named("fraud-dev-feature-store", "aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == BOUNDARY
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    statements = {s["Sid"]: s for s in view.document(view.named("fraud-dev-feature-store-policy"))["Statement"]}
    assert statements["OfflineStore"]["Resource"] == "arn:aws:s3:::fraud-dev-features-123456789012-euw1/offline-store/*"
    assert statements["DataKey"]["Resource"] == KEY_ARN
    assert statements["FeatureTables"]["Resource"] == [
        "arn:aws:glue:eu-west-1:123456789012:catalog", "arn:aws:glue:eu-west-1:123456789012:database/fraud_dev_lake",
        "arn:aws:glue:eu-west-1:123456789012:table/fraud_dev_lake/*"]
    assert not any("*" == r for s in statements.values() if s["Effect"] == "Allow"
                   for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]))
    assert {sid for sid, s in statements.items() if s["Effect"] == "Deny"} == {"SageMakerOnlyInVpcSubnets"}


def test_catalog_crawler_and_workgroup(component, team_names):
    view = component(lambda p: FeatureStore("fs", store_args(team_names), p["eu-west-1"]))
    database = view.named("fraud-dev-lake", "aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "fraud_dev_lake"
    crawler = view.named("fraud-dev-curated-crawler", "aws:glue/crawler:Crawler").inputs
    assert crawler["s3Targets"] == [{"path": "s3://fraud-dev-curated-123456789012-euw1/"}]
    assert crawler["schedule"] == "cron(0 3 * * ? *)" and crawler["databaseName"] == "fraud_dev_lake"
    assert crawler["schemaChangePolicy"] == {"updateBehavior": "UPDATE_IN_DATABASE", "deleteBehavior": "LOG"}
    assert crawler["role"] == "arn:aws:iam::123456789012:role/fraud-dev-catalog-crawler"
    workgroup = view.named("fraud-dev-analytics", "aws:athena/workgroup:Workgroup").inputs["configuration"]
    assert workgroup["enforceWorkgroupConfiguration"] is True
    assert workgroup["bytesScannedCutoffPerQuery"] == 10 * 1024 ** 3
    assert workgroup["resultConfiguration"] == {
        "outputLocation": "s3://fraud-dev-features-123456789012-euw1/athena/results/",
        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY_ARN}}


def test_catalog_encryption_alone(component):
    view = component(lambda p: CatalogEncryption("catalog", CatalogEncryptionArgs(KEY_ARN), p["eu-west-1"]))
    (settings,) = view.of_type("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings")
    assert settings.inputs["dataCatalogEncryptionSettings"] == {
        "encryptionAtRest": {"catalogEncryptionMode": "SSE-KMS", "sseAwsKmsKeyId": KEY_ARN},
        "connectionPasswordEncryption": {"returnConnectionPasswordEncrypted": True, "awsKmsKeyId": KEY_ARN}}


@pytest.mark.parametrize("stack", ["fraud-dev", "fraud-prod"])
def test_planned_fraud_stacks_export_the_feature_store(plans, stack):
    outputs = plans[stack].plan.outputs
    assert outputs["featureGroups"] == {"transactions": f"{stack}-transactions",
                                        "customer-profile": f"{stack}-customer-profile"}
    assert outputs["featureDatabase"] == stack.replace("-", "_") + "_lake"
    assert outputs["athenaWorkgroup"] == f"{stack}-analytics"
    view = plans[stack]
    tx = view.named(f"{stack}-transactions", FG)
    data_key = view.named(f"{stack}-data-euw1", "aws:kms/key:Key")
    assert data_key.urn in tx.property_dependencies["onlineStoreConfig"]
    assert tx.inputs["offlineStoreConfig"]["s3StorageConfig"]["s3Uri"].startswith(f"s3://{stack}-features-")
    assert tx.protect is (stack == "fraud-prod")
    limit = view.named(f"{stack}-analytics", "aws:athena/workgroup:Workgroup").inputs["configuration"]
    assert limit["bytesScannedCutoffPerQuery"] == (10 if stack == "fraud-dev" else 500) * 1024 ** 3


def test_platform_encrypts_each_regional_catalog(plans):
    view = plans["platform-prod"]
    settings = view.of_type("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings")
    regions = sorted(view.by_urn[s.provider].inputs["region"] for s in settings)
    assert regions == ["eu-west-1", "us-east-1"]
    keys = {k.name for k in view.of_type("aws:kms/key:Key")}
    assert {"platform-prod-catalog-euw1", "platform-prod-catalog-use1"} <= keys
