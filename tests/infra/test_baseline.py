"""Issue 7 item 4, the account baseline (prod by default) and the VPCs' default security group and
network ACL. Each test fails on the blueprint before the baseline."""

import pytest

from infra.components.network import EPHEMERAL_RANGES
from platform_lib.config.schema import BaselineConfig

ADMIN_PORTS = (22, 3389)


def regions_of(view, token):
    return sorted(view.by_urn[r.provider].inputs["region"] for r in view.of_type(token))


def test_prod_baseline_covers_every_region(plans):
    view = plans["platform-prod"]
    (block,) = view.of_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                         "restrictPublicBuckets"))
    assert regions_of(view, "aws:ebs/encryptionByDefault:EncryptionByDefault") == ["eu-west-1", "us-east-1"]
    assert regions_of(view, "aws:guardduty/detector:Detector") == ["eu-west-1", "us-east-1"]
    assert all(d.inputs["enable"] and d.protect for d in view.of_type("aws:guardduty/detector:Detector"))


def test_prod_trail_is_multi_region_validated_encrypted_and_object_locked(plans):
    view = plans["platform-prod"]
    (trail,) = view.of_type("aws:cloudtrail/trail:Trail")
    assert trail.inputs["isMultiRegionTrail"] and trail.inputs["enableLogFileValidation"]
    assert trail.inputs["includeGlobalServiceEvents"] and trail.inputs["enableLogging"]
    (key,) = [k for k in view.of_type("aws:kms/key:Key") if k.name == "platform-prod-audit-euw1"]
    assert trail.property_dependencies["kmsKeyId"] == [key.urn]
    bucket = view.named("platform-prod-cloudtrail", "aws:s3/bucket:Bucket")
    assert trail.inputs["s3BucketName"] == bucket.inputs["bucket"] == "platform-prod-cloudtrail-222222222222-euw1"
    assert bucket.inputs["objectLockEnabled"] is True and bucket.protect
    (lock,) = view.attached_to(bucket, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 365}}
    (sse,) = view.attached_to(bucket, "aws:s3/bucketServerSideEncryptionConfiguration:"
                                      "BucketServerSideEncryptionConfiguration")
    assert sse.property_dependencies["rules"] == [key.urn]
    (policy,) = view.attached_to(bucket, "aws:s3/bucketPolicy:BucketPolicy")
    write = {s["Sid"]: s for s in view.document(policy)["Statement"]}["CloudTrailWrite"]
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == \
        "arn:aws:cloudtrail:eu-west-1:222222222222:trail/platform-prod-trail"
    statements = {s["Sid"]: s for s in view.document(key)["Statement"]}
    assert statements["CloudTrailEncryptsLogs"]["Condition"]["StringEquals"]["aws:SourceArn"] == \
        write["Condition"]["StringEquals"]["aws:SourceArn"]


def test_prod_config_records_every_region_into_its_bucket(plans):
    view = plans["platform-prod"]
    recorders = view.of_type("aws:cfg/recorder:Recorder")
    assert regions_of(view, "aws:cfg/recorder:Recorder") == ["eu-west-1", "us-east-1"]
    global_recorders = [r for r in recorders if r.inputs["recordingGroup"]["includeGlobalResourceTypes"]]
    assert [view.by_urn[r.provider].inputs["region"] for r in global_recorders] == ["eu-west-1"]
    assert all(r.inputs["roleArn"] == "arn:aws:iam::222222222222:role/aws-service-role/config.amazonaws.com/"
               "AWSServiceRoleForConfig" for r in recorders)
    channels = view.of_type("aws:cfg/deliveryChannel:DeliveryChannel")
    assert {c.inputs["s3BucketName"] for c in channels} == {"platform-prod-config-222222222222-euw1"}
    statuses = view.of_type("aws:cfg/recorderStatus:RecorderStatus")
    assert len(statuses) == 2 and all(s.inputs["isEnabled"] for s in statuses)
    for bucket in ("platform-prod-cloudtrail", "platform-prod-config"):
        (logging,) = view.attached_to(view.named(bucket, "aws:s3/bucket:Bucket"), "aws:s3/bucketLogging:BucketLogging")
        assert logging.inputs["targetBucket"] == "platform-prod-logs-222222222222-euw1"


def test_dev_has_no_baseline_by_default(plans):
    view = plans["platform-dev"]
    for token in ("aws:cloudtrail/trail:Trail", "aws:guardduty/detector:Detector", "aws:cfg/recorder:Recorder",
                  "aws:ebs/encryptionByDefault:EncryptionByDefault",
                  "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"):
        assert not view.of_type(token), token
    # no baseline buckets: only the MLflow artifact store and its access logs (tracking)
    assert sorted(b.name for b in view.of_type("aws:s3/bucket:Bucket")) == ["platform-dev-mlflow-artifacts",
                                                                            "platform-dev-mlflow-logs"]
    assert BaselineConfig.DEFAULTS["prod"] == {"accountPublicAccessBlock": True, "ebsEncryptionByDefault": True,
                                               "cloudTrail": True, "guardDuty": True, "configRecorder": True}


@pytest.mark.parametrize("stack", ["platform-prod", "platform-dev"])
def test_default_acl_is_emptied_and_every_subnet_has_an_explicit_acl(plans, stack):
    view = plans[stack]
    vpcs = view.of_type("aws:ec2/vpc:Vpc")
    defaults = view.of_type("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")
    assert sorted(d.property_dependencies["defaultNetworkAclId"][0] for d in defaults) == sorted(v.urn for v in vpcs)
    assert all(d.inputs.get("ingress", []) == [] and d.inputs.get("egress", []) == [] for d in defaults)
    acls = view.of_type("aws:ec2/networkAcl:NetworkAcl")
    covered = sorted(urn for acl in acls for urn in acl.property_dependencies["subnetIds"])
    assert covered == sorted(s.urn for s in view.of_type("aws:ec2/subnet:Subnet"))


@pytest.mark.parametrize("stack", ["platform-prod", "platform-dev"])
def test_no_acl_opens_an_admin_port_to_the_world(plans, stack):
    for acl in plans[stack].of_type("aws:ec2/networkAcl:NetworkAcl"):
        for rule in acl.inputs["ingress"]:
            if rule["cidrBlock"] == "0.0.0.0/0":
                assert rule["protocol"] == "tcp" and rule["action"] == "allow"
                assert not any(rule["fromPort"] <= port <= rule["toPort"] for port in ADMIN_PORTS), rule
    assert EPHEMERAL_RANGES == ((1024, 3388), (3390, 65535))
