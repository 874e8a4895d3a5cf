"""S3 stack rules on bucket configuration resources: access logging, lifecycle, ACLs disabled."""

from __future__ import annotations

import pytest

from policies.rules.s3_bucket_access_logging import RULE as LOGGING
from policies.rules.s3_bucket_acls_disabled import RULE as ACLS
from policies.rules.s3_bucket_lifecycle_configured import RULE as LIFECYCLE

BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE_TYPE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
LOGS = {"ml-platform/purpose": "logs"}
LOGGING_REQUIRED = ("an s3.BucketLogging with a targetBucket (a log bucket; buckets tagged ml-platform/purpose=logs "
                    "are exempt: logs don't log themselves)")
LIFECYCLE_REQUIRED = "an s3.BucketLifecycleConfiguration with at least one rule of status 'Enabled'"
ACL_REQUIRED = ("an s3.BucketOwnershipControls with objectOwnership=BucketOwnerEnforced (ACLs disabled) and no ACL "
                "other than 'private'")


# -- access logging -----------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["deps", "value", "plain-deps"])
def test_bucket_logging_to_a_log_bucket_is_compliant(kit, link):
    bucket = kit.bucket()
    logging = kit.bucket_config(BUCKET_LOGGING, bucket, {"targetBucket": "fraud-dev-logs", "targetPrefix": "raw/"},
                                link=link)
    assert kit.run(LOGGING, kit.stack(bucket, logging)) == []


def test_bucket_without_access_logging_is_reported_on_the_bucket(kit):
    raw, logs = kit.bucket("raw"), kit.bucket("logs", tags=LOGS)
    assert kit.run(LOGGING, kit.stack(raw, logs)) == [
        (f"bucket 'fraud-dev-raw' has no server access logging; required: {LOGGING_REQUIRED}", raw.urn)]


def test_logging_of_another_bucket_does_not_count(kit):
    raw, features = kit.bucket("raw"), kit.bucket("features")
    logging = kit.bucket_config(BUCKET_LOGGING, raw, {"targetBucket": "fraud-dev-logs"})
    assert [urn for _, urn in kit.run(LOGGING, kit.stack(raw, features, logging))] == [features.urn]


def test_empty_target_bucket_is_reported_on_the_logging_config(kit):
    bucket = kit.bucket()
    logging = kit.bucket_config(BUCKET_LOGGING, bucket, {"targetBucket": ""})
    assert kit.run(LOGGING, kit.stack(bucket, logging)) == [
        (f"bucket 'fraud-dev-raw' has a logging config with an empty targetBucket; required: {LOGGING_REQUIRED}",
         logging.urn)]


def test_unknown_logging_target_is_not_a_violation(kit):
    bucket = kit.bucket(known_name=False)
    unknown = kit.bucket_config(BUCKET_LOGGING, bucket, {"targetBucket": kit.unknown})
    vanished = kit.bucket_config(BUCKET_LOGGING, bucket, {}, name="vanished")  # required input: unknown
    assert kit.run(LOGGING, kit.stack(bucket, unknown)) == []
    assert kit.run(LOGGING, kit.stack(bucket, vanished)) == []


def test_inline_loggings_on_the_bucket_count(kit):
    bucket = kit.bucket(loggings=[{"targetBucket": "fraud-dev-logs", "targetPrefix": "raw/"}])
    assert kit.run(LOGGING, kit.stack(bucket)) == []


# -- lifecycle ----------------------------------------------------------------------------------

def lifecycle(*statuses):
    return {"rules": [{"id": f"r{i}", "status": s, "filter": {}, "abortIncompleteMultipartUpload":
                       {"daysAfterInitiation": 7}} for i, s in enumerate(statuses)]}


@pytest.mark.parametrize("resource_type", [LIFECYCLE_TYPE, LIFECYCLE_V2])
def test_bucket_with_an_enabled_lifecycle_rule_is_compliant(kit, resource_type):
    bucket = kit.bucket()
    config = kit.bucket_config(resource_type, bucket, lifecycle("Disabled", "Enabled"))
    assert kit.run(LIFECYCLE, kit.stack(bucket, config)) == []


def test_bucket_without_lifecycle_is_reported(kit):
    bucket = kit.bucket()
    assert kit.run(LIFECYCLE, kit.stack(bucket)) == [
        (f"bucket 'fraud-dev-raw' has no lifecycle configuration; required: {LIFECYCLE_REQUIRED}", bucket.urn)]


def test_lifecycle_with_only_disabled_rules_is_reported_on_the_config(kit):
    bucket = kit.bucket()
    config = kit.bucket_config(LIFECYCLE_TYPE, bucket, lifecycle("Disabled"))
    assert kit.run(LIFECYCLE, kit.stack(bucket, config)) == [
        (f"bucket 'fraud-dev-raw' has a lifecycle configuration without an Enabled rule; required: "
         f"{LIFECYCLE_REQUIRED}", config.urn)]


def test_unknown_lifecycle_is_not_a_violation(kit):
    bucket = kit.bucket()
    unknown_status = kit.bucket_config(LIFECYCLE_TYPE, bucket, lifecycle(kit.unknown))
    vanished = kit.bucket_config(LIFECYCLE_TYPE, bucket, {}, name="vanished")
    assert kit.run(LIFECYCLE, kit.stack(bucket, unknown_status)) == []
    assert kit.run(LIFECYCLE, kit.stack(bucket, vanished)) == []


def test_inline_lifecycle_rules_count_when_enabled(kit):
    enabled = kit.bucket("raw", lifecycleRules=[{"enabled": True, "expirations": [{"days": 30}]}])
    disabled = kit.bucket("features", lifecycleRules=[{"enabled": False}])
    assert [urn for _, urn in kit.run(LIFECYCLE, kit.stack(enabled, disabled))] == [disabled.urn]


# -- ACLs disabled ------------------------------------------------------------------------------

def ownership(value):
    return {"rule": {"objectOwnership": value}}


def test_bucket_owner_enforced_is_compliant(kit):
    bucket = kit.bucket()
    controls = kit.bucket_config(OWNERSHIP, bucket, ownership("BucketOwnerEnforced"))
    assert kit.run(ACLS, kit.stack(bucket, controls)) == []


def test_bucket_without_ownership_controls_is_reported(kit):
    bucket = kit.bucket()
    [(message, urn)] = kit.run(ACLS, kit.stack(bucket))
    assert urn == bucket.urn
    assert message.startswith("bucket 'fraud-dev-raw' has no ownership controls (ACLs stay enabled on buckets "
                              "created before April 2023 or imported); required: ")


@pytest.mark.parametrize("value", ["ObjectWriter", "BucketOwnerPreferred"])
def test_ownership_that_keeps_acls_is_reported_on_the_controls(kit, value):
    bucket = kit.bucket()
    controls = kit.bucket_config(OWNERSHIP, bucket, ownership(value))
    assert kit.run(ACLS, kit.stack(bucket, controls)) == [
        (f"bucket 'fraud-dev-raw' has object ownership {value!r} (ACLs enabled); required: {ACL_REQUIRED}",
         controls.urn)]


def test_acl_granting_access_is_reported_even_with_ownership_enforced(kit):
    bucket = kit.bucket()
    controls = kit.bucket_config(OWNERSHIP, bucket, ownership("BucketOwnerEnforced"))
    public = kit.bucket_config(BUCKET_ACL, bucket, {"acl": "public-read"}, name="acl")
    private = kit.bucket_config(BUCKET_ACL, bucket, {"acl": "private"}, name="private-acl")
    assert kit.run(ACLS, kit.stack(bucket, controls, public, private)) == [
        (f"bucket 'fraud-dev-raw' is given the canned ACL 'public-read'; required: {ACL_REQUIRED}", public.urn)]


def test_inline_acl_on_the_bucket_is_reported(kit):
    bucket = kit.bucket(acl="authenticated-read")
    controls = kit.bucket_config(OWNERSHIP, bucket, ownership("BucketOwnerEnforced"))
    assert [urn for _, urn in kit.run(ACLS, kit.stack(bucket, controls))] == [bucket.urn]


def test_unknown_ownership_is_not_a_violation(kit):
    bucket = kit.bucket()
    unknown = kit.bucket_config(OWNERSHIP, bucket, ownership(kit.unknown))
    vanished = kit.bucket_config(OWNERSHIP, bucket, {}, name="vanished")
    assert kit.run(ACLS, kit.stack(bucket, unknown)) == []
    assert kit.run(ACLS, kit.stack(bucket, vanished)) == []
