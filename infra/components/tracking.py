"""Experiment tracking: the environment's SageMaker managed MLflow tracking server, its artifact store in
a guarded platform bucket, its least-privilege role, and each team's access to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.components.bucket import ACCESS_LOGS, BucketSpec, SecureBucket
from infra.documents import KEY_USE_ACTIONS, allow, in_account
from infra.naming import Names

ARTIFACT_PREFIX = "artifacts"
TRACKING_ROLE = "mlflow"          # the server's role and name: `<platform>-<env>-mlflow`
# What a team's roles do with the server: track experiments and runs (models are registered in the
# SageMaker model registry, not in MLflow's).
TRACKING_ACTIONS = [f"sagemaker-mlflow:{action}" for action in (
    "AccessUI", "CreateExperiment", "GetExperiment", "GetExperimentByName", "SearchExperiments",
    "UpdateExperiment", "SetExperimentTag", "CreateRun", "GetRun", "SearchRuns", "UpdateRun", "DeleteRun",
    "RestoreRun", "LogMetric", "LogParam", "LogBatch", "LogInputs", "LogModel", "SetTag", "DeleteTag",
    "GetMetricHistory", "ListArtifacts",
)]
TRACKING_CEILING = [f"sagemaker-mlflow:{pattern}" for pattern in (
    "AccessUI", "*Experiment*", "*Run*", "Log*", "*Tag", "GetMetricHistory", "ListArtifacts")]
"""The tracking actions in the workload boundary's few characters (tests: it admits every one above)."""
SERVER_ACTIONS = ["sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer"]
ARTIFACT_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
ARTIFACT_BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation"]


@dataclass(frozen=True)
class TrackingArgs:
    names: Names
    region: str                              # the platform's primary region
    size: str                                # Small, Medium, Large
    mlflow_version: str
    maintenance_window: str                  # e.g. Sun:03:00
    key_arn: pulumi.Input[str]               # KMS key of the artifact bucket
    permissions_boundary: pulumi.Input[str]  # of the server's role
    noncurrent_version_expiry_days: int
    protect: bool


@dataclass(frozen=True)
class TrackingAccessArgs:
    """One team role's access to the environment's server (from PlatformOutputs.tracking)."""

    names: Names
    role: pulumi.Input[str]                  # the role's name
    server_arn: pulumi.Input[str]
    artifact_bucket: pulumi.Input[str]
    artifact_key_arn: pulumi.Input[str]


def artifact_rules(noncurrent_days: int) -> list[dict[str, Any]]:
    return [{"id": "artifacts-tiering", "status": "Enabled", "filter": {},
             "transitions": [{"days": 30, "storage_class": "INTELLIGENT_TIERING"}],
             "noncurrent_version_expiration": {"noncurrent_days": noncurrent_days},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}]


def log_rules(days: int) -> list[dict[str, Any]]:
    return [{"id": "expire-access-logs", "status": "Enabled", "filter": {}, "expiration": {"days": days},
             "noncurrent_version_expiration": {"noncurrent_days": 7},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 1}}]


def log_delivery(log_bucket: str, account_id: str) -> documents.Statement:
    """S3's logging service writes the artifact bucket's access logs, for this account's buckets only."""
    return {"Sid": "S3ServerAccessLogsDelivery", "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{log_bucket}/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}


def artifact_statements(bucket_arn: str, key_arn: str, account_id: str) -> list[documents.Statement]:
    """Read and write the artifact store: its objects, the bucket's listing, its key (S3 grants are tied
    to the account, as every S3 grant of the blueprint)."""
    return [allow(ARTIFACT_BUCKET_ACTIONS, bucket_arn, sid="ArtifactBucket", **in_account(account_id)),
            allow(ARTIFACT_OBJECT_ACTIONS, f"{bucket_arn}/*", sid="Artifacts", **in_account(account_id)),
            allow(KEY_USE_ACTIONS, key_arn, sid="ArtifactKey")]


class ExperimentTracking(pulumi.ComponentResource):
    """`<platform>-<env>-mlflow`: the server, its artifact bucket (SecureBucket) and its role."""

    def __init__(self, name: str, args: TrackingArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:tracking:ExperimentTracking", name, None, opts)
        names = args.names
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        server_name = names.resource(TRACKING_ROLE)
        log_bucket = names.bucket("mlflow-logs", args.region)
        self.log_bucket = SecureBucket(   # SSE-S3, as S3 server access logging requires (tagged purpose=logs)
            names.resource("mlflow-logs"),
            BucketSpec(purpose=ACCESS_LOGS, bucket_name=log_bucket, kms_key_arn=None, log_bucket=None,
                       lifecycle_rules=log_rules(args.noncurrent_version_expiry_days), protect=args.protect,
                       extra_policy_statements=[log_delivery(log_bucket, names.account_id)]),
            opts=child,
        )
        self.bucket = SecureBucket(
            names.resource("mlflow-artifacts"),
            BucketSpec(purpose="mlflow-artifacts", bucket_name=names.bucket("mlflow", args.region),
                       kms_key_arn=args.key_arn, log_bucket=self.log_bucket.name,
                       lifecycle_rules=artifact_rules(args.noncurrent_version_expiry_days), protect=args.protect),
            opts=child,
        )
        self.role = aws.iam.Role(
            server_name, name=server_name,
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("sagemaker.amazonaws.com",
                                                                              names.account_id)),
            permissions_boundary=args.permissions_boundary, opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{server_name}-policy", role=self.role.id,
            policy=pulumi.Output.json_dumps(pulumi.Output.all(self.bucket.arn, args.key_arn).apply(
                lambda v: documents.document(*artifact_statements(v[0], v[1], names.account_id)))),
            opts=child,
        )
        self.server = aws.sagemaker.MlflowTrackingServer(
            server_name, tracking_server_name=server_name,
            artifact_store_uri=self.bucket.name.apply(lambda bucket: f"s3://{bucket}/{ARTIFACT_PREFIX}"),
            role_arn=self.role.arn, tracking_server_size=args.size, mlflow_version=args.mlflow_version,
            automatic_model_registration=False, weekly_maintenance_window_start=args.maintenance_window,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[policy]),
        )
        self.register_outputs({"arn": self.server.arn, "url": self.server.tracking_server_url})

    def outputs(self, region: str, key_arn: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
        """PlatformOutputs.tracking."""
        return {"arn": self.server.arn, "url": self.server.tracking_server_url, "region": region,
                "artifactBucket": self.bucket.name, "artifactKeyArn": key_arn}


class TrackingAccess(pulumi.ComponentResource):
    """A team role may track experiments on the server and read and write its artifact store."""

    def __init__(self, name: str, args: TrackingAccessArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:tracking:TrackingAccess", name, None, opts)
        document = pulumi.Output.all(args.server_arn, args.artifact_bucket, args.artifact_key_arn).apply(
            lambda v: documents.document(
                allow(TRACKING_ACTIONS, v[0], sid="TrackExperiments"),
                allow(SERVER_ACTIONS, v[0], sid="OpenTrackingServer"),
                *artifact_statements(f"arn:aws:s3:::{v[1]}", v[2], args.names.account_id),
            ))
        aws.iam.RolePolicy(name, role=args.role, policy=pulumi.Output.json_dumps(document),
                           opts=pulumi.ResourceOptions(parent=self, provider=provider))
        self.register_outputs({})


