"""The four S3 stack rules: encryption, public access, versioning, TLS-only."""

from __future__ import annotations

import json

import pytest

from policies.rules.s3_bucket_kms_encryption import RULE as ENCRYPTION
from policies.rules.s3_bucket_public_access_blocked import RULE as PUBLIC_ACCESS
from policies.rules.s3_bucket_tls_only import RULE as TLS_ONLY
from policies.rules.s3_bucket_versioning_enabled import RULE as VERSIONING

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
VERSIONING_TYPE = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e"
LOGS = {"ml-platform/purpose": "logs"}


def sse(algorithm="aws:kms", key=KEY_ARN):
    default = {"sseAlgorithm": algorithm}
    if key is not None:
        default["kmsMasterKeyId"] = key
    return {"rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}]}


def tls_policy(secure_transport="false", effect="Deny"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": effect, "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::fraud-dev-raw", "arn:aws:s3:::fraud-dev-raw/*"],
        "Condition": {"Bool": {"aws:SecureTransport": secure_transport}}}]})


# -- encryption ---------------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["deps", "value", "plain-deps"])
@pytest.mark.parametrize("algorithm", ["aws:kms", "aws:kms:dsse"])
def test_encryption_with_cmk_is_compliant(kit, link, algorithm):
    bucket = kit.bucket()
    config = kit.bucket_config(SSE, bucket, sse(algorithm), link=link)
    assert kit.run(ENCRYPTION, kit.stack(bucket, config)) == []


def test_bucket_without_encryption_config_is_reported(kit):
    bucket = kit.bucket()
    [(message, urn)] = kit.run(ENCRYPTION, kit.stack(bucket))
    assert urn == bucket.urn
    assert message == ("bucket 'fraud-dev-raw' has no server-side encryption config; required: sseAlgorithm "
                       "aws:kms or aws:kms:dsse with a kmsMasterKeyId (customer-managed KMS key)")


@pytest.mark.parametrize("config, problem", [
    (sse("AES256", None), "sseAlgorithm 'AES256'"),
    (sse("aws:kms", None), "without kmsMasterKeyId"),
    (sse("aws:kms", "alias/aws/s3"), "AWS-managed key"),
])
def test_encryption_without_cmk_is_reported_on_the_config(kit, config, problem):
    bucket = kit.bucket()
    resource = kit.bucket_config(SSE, bucket, config)
    [(message, urn)] = kit.run(ENCRYPTION, kit.stack(bucket, resource))
    assert urn == resource.urn and problem in message and "'fraud-dev-raw'" in message


def test_encryption_config_of_another_bucket_does_not_count(kit):
    raw, features = kit.bucket("raw"), kit.bucket("features")
    config = kit.bucket_config(SSE, raw, sse())
    violations = kit.run(ENCRYPTION, kit.stack(raw, features, config))
    assert [urn for _, urn in violations] == [features.urn]


def test_legacy_v2_encryption_config_counts(kit):
    bucket = kit.bucket()
    assert kit.run(ENCRYPTION, kit.stack(bucket, kit.bucket_config(SSE_V2, bucket, sse()))) == []


def test_unknown_encryption_values_are_not_violations(kit):
    bucket = kit.bucket(known_name=False)
    unknown_key = kit.bucket_config(SSE, bucket, sse(key=kit.unknown), name="a")
    assert kit.run(ENCRYPTION, kit.stack(bucket, unknown_key)) == []
    rules_absent = kit.bucket_config(SSE, bucket, {}, name="b")  # required input vanished: unknown
    assert kit.run(ENCRYPTION, kit.stack(bucket, rules_absent)) == []


def test_secret_wrapped_key_id_is_unwrapped(kit):
    bucket = kit.bucket()
    config = kit.bucket_config(SSE, bucket, sse(key=kit.secret(KEY_ARN)))
    assert kit.run(ENCRYPTION, kit.stack(bucket, config)) == []


def test_log_bucket_may_use_sse_s3_but_needs_a_config(kit):
    logs = kit.bucket("access-logs", tags=LOGS)
    assert kit.run(ENCRYPTION, kit.stack(logs, kit.bucket_config(SSE, logs, sse("AES256", None)))) == []
    [(message, _)] = kit.run(ENCRYPTION, kit.stack(logs))
    assert message.startswith("bucket 'fraud-dev-access-logs' has no server-side encryption config; "
                              "required: sseAlgorithm AES256, aws:kms or aws:kms:dsse (log buckets may use AES256")


def test_inline_encryption_on_the_bucket_counts(kit):
    inline = {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                              "kmsMasterKeyId": KEY_ARN}}}
    bucket = kit.bucket(serverSideEncryptionConfiguration=inline)
    assert kit.run(ENCRYPTION, kit.stack(bucket)) == []


# -- public access ------------------------------------------------------------------------------

ALL_BLOCKED = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
               "restrictPublicBuckets": True}


def test_fully_blocked_bucket_is_compliant(kit):
    bucket = kit.bucket()
    assert kit.run(PUBLIC_ACCESS, kit.stack(bucket, kit.bucket_config(PAB, bucket, ALL_BLOCKED))) == []


def test_bucket_without_public_access_block_is_reported(kit):
    bucket = kit.bucket()
    [(message, urn)] = kit.run(PUBLIC_ACCESS, kit.stack(bucket))
    assert urn == bucket.urn
    assert message == ("bucket 'fraud-dev-raw' has no public access block; required: a BucketPublicAccessBlock "
                       "with blockPublicAcls=true, blockPublicPolicy=true, ignorePublicAcls=true, "
                       "restrictPublicBuckets=true")


def test_partial_public_access_block_names_the_missing_flags(kit):
    bucket = kit.bucket()
    block = kit.bucket_config(PAB, bucket, {**ALL_BLOCKED, "ignorePublicAcls": False,
                                            "restrictPublicBuckets": None})
    [(message, urn)] = kit.run(PUBLIC_ACCESS, kit.stack(bucket, block))
    assert urn == block.urn
    assert message.startswith("bucket 'fraud-dev-raw' public access block leaves ignorePublicAcls, "
                              "restrictPublicBuckets unset or false; required:")


def test_unknown_public_access_flag_is_not_a_violation(kit):
    bucket = kit.bucket()
    block = kit.bucket_config(PAB, bucket, {**ALL_BLOCKED, "blockPublicPolicy": kit.unknown_bool})
    assert kit.run(PUBLIC_ACCESS, kit.stack(bucket, block)) == []


# -- versioning ---------------------------------------------------------------------------------

@pytest.mark.parametrize("resource_type", [VERSIONING_TYPE, VERSIONING_V2])
def test_versioned_bucket_is_compliant(kit, resource_type):
    bucket = kit.bucket()
    config = kit.bucket_config(resource_type, bucket, {"versioningConfiguration": {"status": "Enabled"}})
    assert kit.run(VERSIONING, kit.stack(bucket, config)) == []


def test_suspended_or_missing_versioning_is_reported(kit):
    bucket, other = kit.bucket("raw"), kit.bucket("features")
    suspended = kit.bucket_config(VERSIONING_TYPE, bucket, {"versioningConfiguration": {"status": "Suspended"}})
    violations = dict((urn, message) for message, urn in kit.run(VERSIONING, kit.stack(bucket, other, suspended)))
    required = ("a BucketVersioning with versioningConfiguration.status='Enabled' (only buckets tagged "
                "ml-platform/purpose=logs are exempt)")
    assert violations == {
        suspended.urn: f"bucket 'fraud-dev-raw' has versioning status 'Suspended'; required: {required}",
        other.urn: f"bucket 'fraud-dev-features' has no versioning config; required: {required}",
    }


def test_log_buckets_are_exempt_from_versioning(kit):
    assert kit.run(VERSIONING, kit.stack(kit.bucket("access-logs", tags=LOGS))) == []


def test_unknown_versioning_status_is_not_a_violation(kit):
    bucket = kit.bucket()
    config = kit.bucket_config(VERSIONING_TYPE, bucket, {"versioningConfiguration": {"status": kit.unknown}})
    vanished = kit.bucket_config(VERSIONING_TYPE, bucket, {}, name="vanished")
    assert kit.run(VERSIONING, kit.stack(bucket, config)) == []
    assert kit.run(VERSIONING, kit.stack(bucket, vanished)) == []


# -- TLS only -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["false", False, ["false"]])
def test_tls_only_bucket_policy_is_compliant(kit, value):
    bucket = kit.bucket()
    policy = kit.bucket_config(POLICY, bucket, {"policy": tls_policy(value)})
    assert kit.run(TLS_ONLY, kit.stack(bucket, policy)) == []


def test_tls_policy_as_dict_is_accepted(kit):
    bucket = kit.bucket()
    policy = kit.bucket_config(POLICY, bucket, {"policy": json.loads(tls_policy())})
    assert kit.run(TLS_ONLY, kit.stack(bucket, policy)) == []


def test_bucket_without_policy_is_reported(kit):
    bucket = kit.bucket()
    [(message, urn)] = kit.run(TLS_ONLY, kit.stack(bucket))
    assert urn == bucket.urn
    assert message == ("bucket 'fraud-dev-raw' has no bucket policy; required: a bucket policy statement Effect=Deny, "
                       "Principal='*', Action='s3:*', Condition Bool aws:SecureTransport=false")


@pytest.mark.parametrize("document, problem", [
    (tls_policy(effect="Allow"), "without a deny on aws:SecureTransport=false"),
    (tls_policy(secure_transport="true"), "without a deny on aws:SecureTransport=false"),
    ("{not json", "not valid JSON"),
])
def test_policy_without_tls_deny_is_reported(kit, document, problem):
    bucket = kit.bucket()
    policy = kit.bucket_config(POLICY, bucket, {"policy": document})
    [(message, urn)] = kit.run(TLS_ONLY, kit.stack(bucket, policy))
    assert urn == policy.urn and problem in message


def test_unknown_bucket_policy_is_not_a_violation(kit):
    bucket = kit.bucket(known_name=False)
    policy = kit.bucket_config(POLICY, bucket, {"policy": kit.unknown})
    assert kit.run(TLS_ONLY, kit.stack(bucket, policy)) == []
