"""The account baseline a platform stack can own: S3 Block Public Access for the account, EBS encryption
by default, a multi-region CloudTrail, GuardDuty and AWS Config recording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.components.bucket import BucketSpec, SecureBucket, access_log_spec
from infra.naming import Names

TRAIL, TRAIL_BUCKET, CONFIG_BUCKET = "trail", "cloudtrail", "config"
CONFIG_SERVICE, CONFIG_ROLE = "config.amazonaws.com", "AWSServiceRoleForConfig"


@dataclass(frozen=True)
class BaselineArgs:
    """Which account-level controls to create, in which regions."""

    names: Names
    primary_region: str
    regions: Sequence[str]
    retention_days: int                        # of trail and Config files (and their object lock)
    audit_key_arn: pulumi.Input[str] | None    # KMS key of trail and Config files (primary region)
    account_public_access_block: bool
    ebs_encryption_by_default: bool
    cloud_trail: bool
    guard_duty: bool
    config_recorder: bool
    protect: bool

    def __post_init__(self) -> None:
        if (self.cloud_trail or self.config_recorder) and self.audit_key_arn is None:
            raise ValueError("a CloudTrail trail or a Config recorder needs audit_key_arn")


def audit_key_statements(names: Names, region: str) -> list[documents.Statement]:
    """Key policy statements for the audit key, as CloudTrail and AWS Config document them."""
    account, trail = names.account_id, names.trail_arn(TRAIL, region)
    trails = f"arn:aws:cloudtrail:*:{account}:trail/*"
    return [
        {"Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}}},
        {"Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail}}},
        {"Sid": "AccountReadsTrailLogs", "Effect": "Allow", "Principal": {"AWS": documents.root(account)},
         "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account},
                       "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}}},
        {"Sid": "ConfigDelivers", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
    ]


def _expire(purpose: str, days: int) -> list[dict[str, Any]]:
    return [{"id": f"expire-{purpose}", "status": "Enabled", "filter": {}, "expiration": {"days": days},
             "noncurrent_version_expiration": {"noncurrent_days": 1},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 1}}]


class AccountBaseline(pulumi.ComponentResource):
    """Account-wide controls. Trail and Config files go to KMS-encrypted buckets of the primary region
    (the trail's object-locked), which log their own access to a regional access-log bucket."""

    def __init__(self, name: str, args: BaselineArgs, providers: dict[str, aws.Provider],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:security:AccountBaseline", name, None, opts)
        names, primary = args.names, args.primary_region
        home = pulumi.ResourceOptions(parent=self, provider=providers[primary])
        if args.account_public_access_block:
            aws.s3.AccountPublicAccessBlock(
                names.resource("account-public-access"), block_public_acls=True, block_public_policy=True,
                ignore_public_acls=True, restrict_public_buckets=True, opts=home)
        for region in args.regions:
            regional = pulumi.ResourceOptions(parent=self, provider=providers[region])
            if args.ebs_encryption_by_default:
                aws.ebs.EncryptionByDefault(names.resource("ebs-encryption", region), enabled=True, opts=regional)
            if args.guard_duty:
                aws.guardduty.Detector(  # deleting a detector deletes its findings
                    names.resource("guardduty", region), enable=True, finding_publishing_frequency="FIFTEEN_MINUTES",
                    opts=pulumi.ResourceOptions.merge(regional, pulumi.ResourceOptions(protect=args.protect)))

        self.trail_bucket: SecureBucket | None = None
        self.config_bucket: SecureBucket | None = None
        if not (args.cloud_trail or args.config_recorder):
            self.register_outputs({})
            return
        log_bucket = SecureBucket(names.resource("audit-logs"),
                                  access_log_spec(names, primary, args.retention_days, args.protect), opts=home)
        if args.cloud_trail:
            self.trail_bucket = self._trail(args, log_bucket, home)
        if args.config_recorder:
            self.config_bucket = self._config(args, log_bucket, providers)
        self.register_outputs({})

    def _bucket(self, args: BaselineArgs, purpose: str, log_bucket: SecureBucket, statements: list,
                opts: pulumi.ResourceOptions, object_lock: bool) -> SecureBucket:
        spec = BucketSpec(
            purpose=purpose, bucket_name=args.names.bucket(purpose, args.primary_region),
            kms_key_arn=args.audit_key_arn, log_bucket=log_bucket.name,
            lifecycle_rules=_expire(purpose, args.retention_days), protect=args.protect,
            extra_policy_statements=statements, object_lock_days=args.retention_days if object_lock else None,
        )
        return SecureBucket(args.names.resource(purpose), spec, opts=opts)

    def _trail(self, args: BaselineArgs, log_bucket: SecureBucket, home: pulumi.ResourceOptions) -> SecureBucket:
        names = args.names
        bucket_arn = f"arn:aws:s3:::{names.bucket(TRAIL_BUCKET, args.primary_region)}"
        source = {"aws:SourceArn": names.trail_arn(TRAIL, args.primary_region), "aws:SourceAccount": names.account_id}
        cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
        bucket = self._bucket(args, TRAIL_BUCKET, log_bucket, [
            {"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": cloudtrail, "Action": "s3:GetBucketAcl",
             "Resource": bucket_arn, "Condition": {"StringEquals": source}},
            {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": cloudtrail, "Action": "s3:PutObject",
             "Resource": f"{bucket_arn}/AWSLogs/{names.account_id}/*",
             "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}}},
        ], home, object_lock=True)
        aws.cloudtrail.Trail(
            names.resource(TRAIL), name=names.resource(TRAIL), s3_bucket_name=bucket.name,
            is_multi_region_trail=True, include_global_service_events=True, enable_log_file_validation=True,
            enable_logging=True, kms_key_id=args.audit_key_arn,
            opts=pulumi.ResourceOptions.merge(home, pulumi.ResourceOptions(depends_on=[bucket])),
        )
        return bucket

    def _config(self, args: BaselineArgs, log_bucket: SecureBucket,
                providers: dict[str, aws.Provider]) -> SecureBucket:
        names, primary = args.names, args.primary_region
        home = pulumi.ResourceOptions(parent=self, provider=providers[primary])
        bucket_arn = f"arn:aws:s3:::{names.bucket(CONFIG_BUCKET, primary)}"
        source = {"aws:SourceAccount": names.account_id}
        config = {"Service": "config.amazonaws.com"}
        bucket = self._bucket(args, CONFIG_BUCKET, log_bucket, [
            {"Sid": "ConfigPermissionsCheck", "Effect": "Allow", "Principal": config,
             "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": bucket_arn,
             "Condition": {"StringEquals": source}},
            {"Sid": "ConfigDelivery", "Effect": "Allow", "Principal": config, "Action": "s3:PutObject",
             "Resource": f"{bucket_arn}/AWSLogs/{names.account_id}/Config/*",
             "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}}},
        ], home, object_lock=False)
        service_role = aws.iam.ServiceLinkedRole(names.resource("config-service-role"), aws_service_name=CONFIG_SERVICE,
                                                 opts=pulumi.ResourceOptions.merge(
                                                     home, pulumi.ResourceOptions(retain_on_delete=True)))
        for region in args.regions:
            regional = pulumi.ResourceOptions(parent=self, provider=providers[region])
            recorder = aws.cfg.Recorder(
                names.resource("config-recorder", region), name=names.resource("config-recorder"),
                role_arn=names.service_linked_role_arn(CONFIG_SERVICE, CONFIG_ROLE),
                recording_group={"all_supported": True, "include_global_resource_types": region == primary},
                opts=pulumi.ResourceOptions.merge(regional, pulumi.ResourceOptions(depends_on=[service_role])),
            )
            channel = aws.cfg.DeliveryChannel(
                names.resource("config-delivery", region), name=names.resource("config-delivery"),
                s3_bucket_name=bucket.name, s3_kms_key_arn=args.audit_key_arn,
                opts=pulumi.ResourceOptions.merge(regional, pulumi.ResourceOptions(depends_on=[recorder, bucket])),
            )
            aws.cfg.RecorderStatus(
                names.resource("config-recording", region), name=recorder.name, is_enabled=True,
                opts=pulumi.ResourceOptions.merge(regional, pulumi.ResourceOptions(depends_on=[channel])),
            )
        return bucket
