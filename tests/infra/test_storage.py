"""The data lake as `pulumi up` would create it (program under mocks): every bucket fully guarded."""

import pytest

BUCKET = "aws:s3/bucket:Bucket"
TIERS = ("raw", "curated", "features", "models")
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def data_buckets(view):
    return [b for b in view.of_type(BUCKET) if "logs" not in b.inputs["bucket"]]


@pytest.mark.parametrize("stack", ["fraud-dev", "fraud-prod", "vision-prod"])
def test_every_bucket_has_all_guard_rails(plans, stack):
    view = plans[stack]
    buckets = view.of_type(BUCKET)
    assert buckets
    for bucket in buckets:
        name = bucket.inputs["bucket"]
        assert bucket.inputs["forceDestroy"] is False, name
        assert bucket.retain_on_delete, name
        (pab,) = view.attached_to(bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert all(pab.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                           "restrictPublicBuckets")), name
        (versioning,) = view.attached_to(bucket, "aws:s3/bucketVersioning:BucketVersioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        (ownership,) = view.attached_to(bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        (policy,) = view.attached_to(bucket, "aws:s3/bucketPolicy:BucketPolicy")
        statements = view.document(policy)["Statement"]
        tls = [s for s in statements if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool") ==
               {"aws:SecureTransport": "false"}]
        assert tls and bucket.inputs["bucket"] in tls[0]["Resource"][0]
        (lifecycle,) = view.attached_to(bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        assert lifecycle.inputs["rules"][0]["status"] == "Enabled"


@pytest.mark.parametrize("stack", ["fraud-dev", "fraud-prod"])
def test_data_buckets_use_the_team_kms_keys_with_bucket_keys(plans, stack):
    view = plans[stack]
    keys = {k.urn for k in view.of_type("aws:kms/key:Key")}
    for bucket in data_buckets(view):
        (sse,) = view.attached_to(bucket, SSE)
        rule = sse.inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
        assert rule["bucketKeyEnabled"] is True
        assert set(sse.property_dependencies["rules"]) & keys


def test_access_logs_go_to_the_regional_log_bucket(plans):
    view = plans["fraud-prod"]
    for bucket in data_buckets(view):
        (logging,) = view.attached_to(bucket, "aws:s3/bucketLogging:BucketLogging")
        region_code = bucket.inputs["bucket"].rsplit("-", 1)[-1]
        assert logging.inputs["targetBucket"] == f"fraud-prod-logs-222222222222-{region_code}"
        assert logging.inputs["targetPrefix"] == f"{bucket.inputs['bucket']}/"
    log_policy = view.document(view.named("fraud-prod-logs-policy"))
    delivery = [s for s in log_policy["Statement"] if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert delivery and delivery[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == "222222222222"


def test_lifecycle_by_tier(plans):
    view = plans["fraud-prod"]
    rules = {tier: view.named(f"fraud-prod-{tier}-lifecycle").inputs["rules"][0] for tier in TIERS}
    assert [t["storageClass"] for t in rules["raw"]["transitions"]] == ["INTELLIGENT_TIERING", "DEEP_ARCHIVE"]
    assert rules["raw"]["transitions"][1]["days"] == 180          # fraud-prod overrides the default 90
    assert [t["storageClass"] for t in rules["curated"]["transitions"]] == ["INTELLIGENT_TIERING"]
    assert all(r["noncurrentVersionExpiration"]["noncurrentDays"] == 365 for r in rules.values())
    dev = plans["fraud-dev"].named("fraud-dev-raw-lifecycle").inputs["rules"][0]
    assert dev["noncurrentVersionExpiration"]["noncurrentDays"] == 30


def test_prod_protects_data_and_dev_does_not(plans):
    assert all(b.protect for b in plans["fraud-prod"].of_type(BUCKET))
    assert all(k.protect for k in plans["fraud-prod"].of_type("aws:kms/key:Key"))
    assert not any(b.protect for b in plans["fraud-dev"].of_type(BUCKET))


def test_models_replicate_to_every_other_serving_region(plans):
    view = plans["fraud-prod"]
    (config,) = view.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    (rule,) = config.inputs["rules"]
    assert rule["destination"]["bucket"] == "arn:aws:s3:::fraud-prod-models-222222222222-use1"
    assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    assert config.inputs["bucket"] == "fraud-prod-models-222222222222-euw1"
    # The replica lives in us-east-1 through that region's provider.
    replica = view.named("fraud-prod-models-use1", BUCKET)
    assert view.by_urn[replica.provider].inputs["region"] == "us-east-1"
    role = view.named("fraud-prod-models-replication", "aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"].endswith(":policy/platform-prod-workload-boundary")
    assert not plans["fraud-dev"].of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")


def test_outputs_name_every_tier_and_serving_region(plans):
    outputs = plans["fraud-prod"].plan.outputs
    assert set(outputs["buckets"]) == set(TIERS)
    assert set(outputs["modelsBuckets"]) == {"eu-west-1", "us-east-1"}
