"""Model packages: metrics and lineage, approval, and exact UpdateModelPackage requests (Stubber)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from platform_lib import registry

LINEAGE = {"data_sha256": "d" * 64, "git_revision": "abc123", "image_digest": "sha256:" + "e" * 64,
           "source_sha256": "s" * 64, "model_sha256": "m" * 64}


def _register(team, **changes):
    sm = team.aws.client("sagemaker")
    kwargs = {"image": "ml-serving:cpu", "model_data_url": "s3://b/models/digits/x/model.tar.gz",
              "metrics": {"validation_accuracy": 0.9722}, "lineage": LINEAGE} | changes
    return sm, registry.register(sm, "fraud-dev-digits", **kwargs)


def test_register_pending_with_metrics_and_lineage_once(team):
    sm, (package, created) = _register(team)
    assert created and package.status == "PendingManualApproval" and package.version == 1
    assert package.metrics == {"validation_accuracy": 0.9722}
    assert package.lineage == LINEAGE
    again, created_again = _register(team)[1]
    assert not created_again and again.arn == package.arn
    other = _register(team, lineage=LINEAGE | {"model_sha256": "n" * 64})[1][0]
    assert other.version == 2
    assert [p.version for p in registry.list_packages(sm, "fraud-dev-digits")] == [1, 2]


def test_approve_keeps_metadata_and_annotate_keeps_approval(team):
    sm, (package, _) = _register(team)
    with pytest.raises(registry.RegistryError, match=r"fraud-dev-digits version 1 is PendingManualApproval"):
        registry.require_approved(package)
    approved = registry.approve(sm, package, "reviewed by ana")
    assert approved.status == "Approved" and approved.lineage == LINEAGE
    noted = registry.annotate(sm, approved, {"promoted.to": "fraud-prod"})
    assert noted.status == "Approved" and noted.metadata["promoted.to"] == "fraud-prod"
    assert noted.approval_description == "reviewed by ana" and noted.metrics == approved.metrics
    assert registry.require_approved(noted) == noted
    rejected = registry.reject(sm, noted, "drifted")
    assert rejected.status == "Rejected" and rejected.metadata == noted.metadata


def test_unknown_lineage_and_bad_metadata_are_refused_before_any_call(team):
    with pytest.raises(registry.RegistryError, match="unknown lineage key"):
        _register(team, lineage={"colour": "red"})
    with pytest.raises(registry.RegistryError, match="at most 256"):
        _register(team, lineage=LINEAGE | {"git_revision": "x" * 300})
    assert registry.list_packages(team.aws.client("sagemaker"), "fraud-dev-digits") == []


def test_requests_match_sagemakers_service_model():
    """moto accepts anything: the exact requests are checked against botocore's real SageMaker model."""
    sm = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud-dev-digits/1"
    described = {"ModelPackageName": "fraud-dev-digits", "ModelPackageArn": arn, "ModelPackageGroupName":
                 "fraud-dev-digits", "ModelPackageVersion": 1, "CreationTime": "2026-01-01T00:00:00Z",
                 "ModelPackageStatus": "Completed", "ModelApprovalStatus": "Approved",
                 "ApprovalDescription": "ok", "CustomerMetadataProperties": {"lineage.git_revision": "abc"},
                 "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []}}
    package = registry.Package.from_description(described)
    with Stubber(sm) as stub:
        stub.add_response("update_model_package", {"ModelPackageArn": arn}, {
            "ModelPackageArn": arn, "ModelApprovalStatus": "Approved", "ApprovalDescription": "ok",
            "CustomerMetadataProperties": {"lineage.git_revision": "abc", "promoted.by": "ci"}})
        stub.add_response("describe_model_package", described, {"ModelPackageName": arn})
        registry.annotate(sm, package, {"promoted.by": "ci"})
        stub.assert_no_pending_responses()
    request = {"ModelPackageGroupName": "g", "ModelPackageDescription": "",
               "ModelApprovalStatus": "PendingManualApproval",
               "InferenceSpecification": {"Containers": [{"Image": "i", "ModelDataUrl": "s3://b/k",
                                                          "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}],
                                          "SupportedContentTypes": registry.CONTENT_TYPES,
                                          "SupportedResponseMIMETypes": ["application/json"]},
               "CustomerMetadataProperties": {"metric.validation_accuracy": "0.97", **{
                   f"lineage.{k}": v for k, v in LINEAGE.items()}},
               "ClientToken": LINEAGE["model_sha256"][:36],
               "MetadataProperties": {"CommitId": "abc123", "GeneratedBy": "mlp register"}}
    with Stubber(sm) as stub:
        stub.add_response("list_model_packages", {"ModelPackageSummaryList": []}, {"ModelPackageGroupName": "g"})
        stub.add_response("create_model_package", {"ModelPackageArn": arn}, request)
        stub.add_response("describe_model_package", described, {"ModelPackageName": arn})
        registry.register(sm, "g", image="i", model_data_url="s3://b/k", metrics={"validation_accuracy": 0.97},
                          lineage=LINEAGE, commit="abc123")
        stub.assert_no_pending_responses()
