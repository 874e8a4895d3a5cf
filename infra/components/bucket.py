"""A bucket with every guard rail on: the unit the data lake is built from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import PURPOSE_TAG


@dataclass(frozen=True)
class BucketSpec:
    """What differs between the buckets of the platform."""

    purpose: str                               # raw, curated, features, models, logs (tagged ml-platform/purpose)
    bucket_name: str                           # the globally unique S3 name
    kms_key_arn: pulumi.Input[str] | None      # None only for log buckets: S3 access logging needs SSE-S3
    log_bucket: pulumi.Input[str] | None       # where server access logs go; None for the log bucket itself
    lifecycle_rules: Sequence[dict[str, Any]]  # BucketLifecycleConfigurationRuleArgs as dicts
    protect: bool
    extra_policy_statements: Sequence[pulumi.Input[dict[str, Any]]] = field(default_factory=tuple)


class SecureBucket(pulumi.ComponentResource):
    """SSE-KMS with bucket keys, versioning, public access blocked, bucket-owner-enforced ownership,
    TLS-only policy, access logging, lifecycle rules; protected (prod) and never deleted with data."""

    bucket: aws.s3.Bucket
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, spec: BucketSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            name,
            bucket=spec.bucket_name,
            force_destroy=False,
            tags={PURPOSE_TAG: spec.purpose},
            opts=pulumi.ResourceOptions(parent=self, protect=spec.protect, retain_on_delete=True),
        )
        self.arn, self.name = self.bucket.arn, self.bucket.bucket
        bucket_id = self.bucket.id

        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=bucket_id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=bucket_id, versioning_configuration={"status": "Enabled"}, opts=child
        )
        encryption = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=spec.kms_key_arn
        ) if spec.kms_key_arn is not None else \
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=encryption, bucket_key_enabled=True)],
            opts=child,
        )
        policy = pulumi.Output.all(self.bucket.arn, *spec.extra_policy_statements).apply(
            lambda values: documents.tls_only_bucket_policy(*values)
        )
        # The policy waits for the public access block so that S3 never sees a public-policy window.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=pulumi.Output.json_dumps(policy),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access, ownership]),
        )
        if spec.log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=bucket_id,
                target_bucket=spec.log_bucket,
                target_prefix=f"{spec.bucket_name}/",
                opts=child,
            )
        if spec.lifecycle_rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle", bucket=bucket_id, rules=cast(Any, list(spec.lifecycle_rules)),
                opts=child
            )
        self.register_outputs({"arn": self.arn, "name": self.name})
