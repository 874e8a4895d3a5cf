"""A team's data lake: tiered buckets in the primary region, model replicas in every serving region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.components.bucket import BucketSpec, SecureBucket
from infra.naming import Names

# Data tiers of the lake and the key domain that encrypts each.
TIERS: dict[str, str] = {"raw": "data", "curated": "data", "features": "data", "models": "models"}
ACCESS_LOGS = "logs"  # tagged ml-platform/purpose=logs: SSE-S3, as S3 access logging requires


@dataclass(frozen=True)
class Lifecycle:
    """When objects change storage class and when old versions and access logs go."""

    tiering_after_days: int
    raw_archive_after_days: int
    noncurrent_version_expiry_days: int
    access_log_days: int


@dataclass(frozen=True)
class DataLakeArgs:
    """A team's data lake in its primary region, with model replicas in its other serving regions."""

    names: Names
    primary_region: str
    serving_regions: Sequence[str]                         # includes the primary when it serves
    lifecycle: Lifecycle
    key_arns: Mapping[str, Mapping[str, pulumi.Input[str]]]   # {domain: {region: key ARN}}
    permissions_boundary: pulumi.Input[str]                # of the replication role
    protect: bool

    @property
    def regions(self) -> list[str]:
        return [self.primary_region, *(r for r in self.serving_regions if r != self.primary_region)]


def lifecycle_rules(tier: str, lifecycle: Lifecycle) -> list[dict[str, Any]]:
    """Intelligent-Tiering for everything, Deep Archive for raw, old versions expire."""
    transitions = [{"days": lifecycle.tiering_after_days, "storage_class": "INTELLIGENT_TIERING"}]
    if tier == "raw":
        transitions.append({"days": lifecycle.raw_archive_after_days, "storage_class": "DEEP_ARCHIVE"})
    return [
        {
            "id": f"{tier}-tiering",
            "status": "Enabled",
            "filter": {},
            "transitions": transitions,
            "noncurrent_version_expiration": {"noncurrent_days": lifecycle.noncurrent_version_expiry_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
    ]


def access_log_rules(lifecycle: Lifecycle) -> list[dict[str, Any]]:
    """Access logs are kept as long as the environment keeps logs."""
    return [
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {},
            "expiration": {"days": lifecycle.access_log_days},
            "noncurrent_version_expiration": {"noncurrent_days": 7},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
        }
    ]


class DataLake(pulumi.ComponentResource):
    """raw/curated/features/models buckets under the team's keys, access logs per region, and the
    models bucket replicated (KMS to KMS) to every other serving region."""

    def __init__(
        self,
        name: str,
        args: DataLakeArgs,
        providers: dict[str, aws.Provider],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("ml-platform:storage:DataLake", name, None, opts)
        names, primary, key_arns = args.names, args.primary_region, args.key_arns

        def secure_bucket(purpose: str, region: str, spec: dict[str, Any]) -> SecureBucket:
            logical = names.resource(purpose, None if region == primary else region)
            return SecureBucket(
                logical,
                BucketSpec(purpose=purpose, bucket_name=names.bucket(purpose, region), protect=args.protect,
                           **spec),
                opts=pulumi.ResourceOptions(parent=self, provider=providers[region]),
            )

        self.log_buckets = {
            region: secure_bucket(
                ACCESS_LOGS, region,
                {"kms_key_arn": None, "log_bucket": None, "lifecycle_rules": access_log_rules(args.lifecycle),
                 "extra_policy_statements": [self._log_delivery(names, region)]},
            )
            for region in args.regions
        }
        self.buckets = {
            tier: secure_bucket(
                tier, primary,
                {"kms_key_arn": key_arns[domain][primary], "log_bucket": self.log_buckets[primary].name,
                 "lifecycle_rules": lifecycle_rules(tier, args.lifecycle)},
            )
            for tier, domain in TIERS.items()
        }
        self.model_replicas = {
            region: secure_bucket(
                "models", region,
                {"kms_key_arn": key_arns["models"][region], "log_bucket": self.log_buckets[region].name,
                 "lifecycle_rules": lifecycle_rules("models", args.lifecycle)},
            )
            for region in args.regions[1:]
        }
        self.replication_role: aws.iam.Role | None = None
        if self.model_replicas:
            self._replicate_models(args, providers[primary])
        self.register_outputs({
            "buckets": {tier: b.name for tier, b in self.buckets.items()},
            "model_replicas": {region: b.name for region, b in self.model_replicas.items()},
        })

    @staticmethod
    def _log_delivery(names: Names, region: str) -> documents.Statement:
        """S3's logging service may write into the log bucket, for this account's buckets only."""
        log_bucket_arn = f"arn:aws:s3:::{names.bucket(ACCESS_LOGS, region)}"
        return {
            "Sid": "S3ServerAccessLogsDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{log_bucket_arn}/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": names.account_id}},
        }

    def _replicate_models(self, args: DataLakeArgs, provider: aws.Provider) -> None:
        source = self.buckets["models"]
        replicas = self.model_replicas
        model_keys = args.key_arns["models"]
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        role_name = args.names.resource("models-replication")
        policy = pulumi.Output.all(
            source=source.arn,
            source_key=model_keys[args.primary_region],
            replicas=[b.arn for b in replicas.values()],
            replica_keys=[model_keys[r] for r in replicas],
        ).apply(lambda v: documents.document(
            documents.allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], v["source"]),
            documents.allow(
                ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                f"{v['source']}/*",
            ),
            documents.allow(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                            [f"{arn}/*" for arn in v["replicas"]]),
            documents.allow(["kms:Decrypt"], v["source_key"]),
            documents.allow(["kms:Encrypt", "kms:GenerateDataKey"], v["replica_keys"]),
        ))
        self.replication_role = aws.iam.Role(
            role_name,
            name=role_name,
            assume_role_policy=pulumi.Output.json_dumps(
                documents.assume_role("s3.amazonaws.com", args.names.account_id)),
            permissions_boundary=args.permissions_boundary,
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{role_name}-policy", role=self.replication_role.id, policy=pulumi.Output.json_dumps(policy), opts=opts
        )
        aws.s3.BucketReplicationConfig(
            args.names.resource("models-replication-config"),
            bucket=source.bucket.id,
            role=self.replication_role.arn,
            rules=[
                {
                    "id": f"models-to-{region}",
                    "status": "Enabled",
                    "priority": priority,
                    "filter": {},
                    "delete_marker_replication": {"status": "Enabled"},
                    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    "destination": {
                        "bucket": replica.arn,
                        "storage_class": "STANDARD",
                        "encryption_configuration": {"replica_kms_key_id": model_keys[region]},
                    },
                }
                for priority, (region, replica) in enumerate(replicas.items(), start=1)
            ],
            # Replication needs versioning on both sides: wait for the whole buckets.
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[source, *replicas.values()]),
        )
