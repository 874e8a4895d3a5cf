"""A team's feature store and data catalog: SageMaker feature groups (online store and Iceberg offline
store under the team's data key), the team's Glue database (feature tables and the curated tier, found
by a scheduled crawler), and an Athena workgroup with KMS-encrypted results and a per-query scan limit.

The Glue Data Catalog's own encryption is one setting per account and region, shared by every team:
``CatalogEncryption`` sets it from the platform stack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.documents import KEY_USE_ACTIONS, allow
from infra.guardrails import outside_vpc_denied
from infra.naming import Names
from platform_lib.config.schema.features import FeatureGroup

OFFLINE_PREFIX = "offline-store"        # under the features bucket
RESULTS_PREFIX = "athena/results"       # Athena query results, under the features bucket
LABELS_PREFIX = "athena/labels"         # labels staged by `mlp features dataset`
GLUE_TABLE_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
                      "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition",
                      "glue:BatchCreatePartition", "glue:UpdatePartition"]
GB = 1024 ** 3


# Roles AWS services assume to reach the team's data from their own network (outside the perimeter).
FEATURE_STORE_ROLE, CRAWLER_ROLE = "feature-store", "catalog-crawler"


@dataclass(frozen=True)
class FeatureStoreArgs:
    """What the feature store needs from the team's stack."""

    names: Names
    region: str
    groups: Sequence[FeatureGroup]
    features_bucket: pulumi.Input[str]       # bucket name: offline store, Athena results, staged labels
    curated_bucket: pulumi.Input[str]        # bucket name: cataloged by the crawler
    data_key_arn: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str]
    query_limit_gb: int
    crawler_schedule: str
    protect: bool


def group_name(names: Names, group: FeatureGroup) -> str:
    """The FeatureGroupName: `<team>-<env>-<group>` (SageMaker allows 64 characters)."""
    name = names.resource(group.name)
    if len(name) > 64:
        raise ValueError(f"feature group name {name!r} is longer than SageMaker's 64 characters; "
                         f"shorten {group.name!r}")
    return name


def feature_definitions(group: FeatureGroup) -> list[aws.sagemaker.FeatureGroupFeatureDefinitionArgs]:
    return [aws.sagemaker.FeatureGroupFeatureDefinitionArgs(
        feature_name=f.name, feature_type=f.type, collection_type="List" if f.list else None)
        for f in group.features]


def online_store_config(group: FeatureGroup,
                        key_arn: pulumi.Input[str]) -> aws.sagemaker.FeatureGroupOnlineStoreConfigArgs | None:
    if not group.online_store.enabled:
        return None
    ttl = group.online_store.ttl
    return aws.sagemaker.FeatureGroupOnlineStoreConfigArgs(
        enable_online_store=True,
        security_config=aws.sagemaker.FeatureGroupOnlineStoreConfigSecurityConfigArgs(kms_key_id=key_arn),
        # Collection (list) features live only in the InMemory tier.
        storage_type="InMemory" if group.has_lists else "Standard",
        ttl_duration=aws.sagemaker.FeatureGroupOnlineStoreConfigTtlDurationArgs(unit=ttl.unit, value=ttl.value)
        if ttl else None,
    )


def service_role(names: Names, purpose: str, description: str, service: str, boundary: pulumi.Input[str],
                 bucket: pulumi.Input[str], key_arn: pulumi.Input[str], opts: pulumi.ResourceOptions,
                 statements: Callable[[str, str], list[documents.Statement]],
                 ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role an AWS service assumes for the team (``<team>-<env>-<purpose>``, under the workload boundary), and
    its inline policy: ``statements(bucket name, key ARN)`` once both are known."""
    role_name = names.resource(purpose)
    role = aws.iam.Role(
        role_name, name=role_name, description=description,
        assume_role_policy=pulumi.Output.json_dumps(documents.assume_role(service, names.account_id)),
        permissions_boundary=boundary, opts=opts,
    )
    policy = aws.iam.RolePolicy(
        f"{role_name}-policy", role=role.id, opts=opts,
        policy=pulumi.Output.json_dumps(pulumi.Output.all(bucket, key_arn).apply(
            lambda v: documents.document(*statements(v[0], v[1])))),
    )
    return role, policy


class FeatureStore(pulumi.ComponentResource):
    """Feature groups, the team's Glue database, the curated-tier crawler and the Athena workgroup."""

    def __init__(self, name: str, args: FeatureStoreArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:features:FeatureStore", name, None, opts)
        names = args.names
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        stateful = pulumi.ResourceOptions(parent=self, provider=provider, protect=args.protect, retain_on_delete=True)
        account = names.account_id
        self.database_name = names.glue("lake")
        self.database = aws.glue.CatalogDatabase(
            names.resource("lake"), name=self.database_name,
            description=f"Data lake of {names.scope} ({names.environment}): feature tables and the curated tier",
            opts=stateful,
        )
        glue_arns = [f"arn:aws:glue:{args.region}:{account}:catalog",
                     f"arn:aws:glue:{args.region}:{account}:database/{self.database_name}",
                     f"arn:aws:glue:{args.region}:{account}:table/{self.database_name}/*"]

        own = documents.in_account(account)  # the data perimeter: this account's buckets only
        self.role, role_policy = service_role(
            names, FEATURE_STORE_ROLE, "Assumed by SageMaker Feature Store to write the offline store",
            "sagemaker.amazonaws.com", args.permissions_boundary, args.features_bucket, args.data_key_arn, child,
            lambda bucket, key: [
                allow(["s3:GetBucketAcl", "s3:GetBucketLocation"], f"arn:aws:s3:::{bucket}", sid="Bucket", **own),
                allow(["s3:ListBucket"], f"arn:aws:s3:::{bucket}", sid="ListOfflineStore",
                      StringLike={"s3:prefix": [f"{OFFLINE_PREFIX}/*"]}, **own),
                allow(["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                      f"arn:aws:s3:::{bucket}/{OFFLINE_PREFIX}/*", sid="OfflineStore", **own),
                allow(KEY_USE_ACTIONS, key, sid="DataKey"),
                documents.grants_for_aws_resources(key, sid="DataKeyGrants"),
                allow(GLUE_TABLE_ACTIONS, glue_arns, sid="FeatureTables"),
                *outside_vpc_denied(),
            ])

        offline_uri = pulumi.Output.concat("s3://", args.features_bucket, f"/{OFFLINE_PREFIX}")
        self.feature_groups: dict[str, aws.sagemaker.FeatureGroup] = {}
        for group in args.groups:
            offline = None
            if group.offline_store.enabled:
                offline = aws.sagemaker.FeatureGroupOfflineStoreConfigArgs(
                    s3_storage_config=aws.sagemaker.FeatureGroupOfflineStoreConfigS3StorageConfigArgs(
                        s3_uri=offline_uri, kms_key_id=args.data_key_arn),
                    table_format="Iceberg",
                    data_catalog_config=aws.sagemaker.FeatureGroupOfflineStoreConfigDataCatalogConfigArgs(
                        catalog="AwsDataCatalog", database=self.database_name, table_name=names.glue(group.name)),
                )
            self.feature_groups[group.name] = aws.sagemaker.FeatureGroup(
                group_name(names, group),
                feature_group_name=group_name(names, group),
                description=group.description,
                record_identifier_feature_name=group.record_identifier,
                event_time_feature_name=group.event_time,
                role_arn=self.role.arn,
                feature_definitions=feature_definitions(group),
                online_store_config=online_store_config(group, args.data_key_arn),
                offline_store_config=offline,
                # The role needs its permissions before SageMaker creates the offline store's table.
                opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(
                    depends_on=[role_policy, self.database])),
            )

        self.crawler_role, crawler_policy = service_role(
            names, CRAWLER_ROLE, "Assumed by the Glue crawler of the curated tier", "glue.amazonaws.com",
            args.permissions_boundary, args.curated_bucket, args.data_key_arn, child,
            lambda bucket, key: [
                allow(["s3:ListBucket", "s3:GetBucketLocation"], f"arn:aws:s3:::{bucket}", sid="CuratedBucket", **own),
                allow(["s3:GetObject"], f"arn:aws:s3:::{bucket}/*", sid="CuratedObjects", **own),
                allow(["kms:Decrypt", "kms:DescribeKey"], key, sid="DataKey"),
                allow(GLUE_TABLE_ACTIONS + ["glue:DeleteTable", "glue:DeletePartition", "glue:BatchDeletePartition"],
                      glue_arns, sid="CuratedTables"),
                allow(["logs:CreateLogStream", "logs:PutLogEvents"],  # the platform creates the group
                      f"arn:aws:logs:{args.region}:{account}:log-group:/aws-glue/crawlers*", sid="CrawlerLogs"),
            ])
        self.crawler = aws.glue.Crawler(
            names.resource("curated-crawler"), name=names.resource("curated-crawler"),
            database_name=self.database.name, role=self.crawler_role.arn, schedule=args.crawler_schedule,
            description="Catalogs the curated tier for Athena",
            s3_targets=[{"path": pulumi.Output.concat("s3://", args.curated_bucket, "/")}],
            table_prefix="curated_",
            # Never drop a table because its data moved: log it instead.
            schema_change_policy={"update_behavior": "UPDATE_IN_DATABASE", "delete_behavior": "LOG"},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[crawler_policy])),
        )

        self.workgroup_name = names.resource("analytics")
        self.workgroup = aws.athena.Workgroup(
            self.workgroup_name, name=self.workgroup_name, force_destroy=False,
            description=f"Athena queries of {names.scope} ({names.environment})",
            configuration={
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": args.query_limit_gb * GB,
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", args.features_bucket, f"/{RESULTS_PREFIX}/"),
                    "encryption_configuration": {"encryption_option": "SSE_KMS", "kms_key_arn": args.data_key_arn},
                },
            },
            opts=child,
        )
        self.register_outputs({
            "feature_groups": {n: g.feature_group_name for n, g in self.feature_groups.items()},
            "database": self.database.name, "workgroup": self.workgroup.name,
        })


@dataclass(frozen=True)
class CatalogEncryptionArgs:
    key_arn: pulumi.Input[str]


class CatalogEncryption(pulumi.ComponentResource):
    """The Glue Data Catalog of one account and region encrypts its metadata and connection passwords
    with a customer-managed key (one setting per account and region: the platform stack owns it)."""

    def __init__(self, name: str, args: CatalogEncryptionArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:features:CatalogEncryption", name, None, opts)
        self.settings = aws.glue.DataCatalogEncryptionSettings(
            name,
            data_catalog_encryption_settings={
                "encryption_at_rest": {"catalog_encryption_mode": "SSE-KMS", "sse_aws_kms_key_id": args.key_arn},
                "connection_password_encryption": {"return_connection_password_encrypted": True,
                                                   "aws_kms_key_id": args.key_arn},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.register_outputs({})
