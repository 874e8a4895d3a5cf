"""What this project knows about each cloud resource type, in one place.

Read by the offline plan's mocks (ids, ARNs, computed outputs), its physical-name collision check,
its warm-up before forking workers, and the policy pack's prod protection rule. Adding a type, or a
fact about one, is one edit here. Standard library only: the pack imports this module standalone
under the Pulumi CLI.

Templates (``arn``, ``outputs``) are ``str.format`` strings over: ``name`` (the physical name: the
input named by ``physical_name``, else the logical name plus a stable suffix), ``id``, ``region``,
``account``, ``uuid`` (a stable UUID of the logical name), ``url_host`` (the ``url`` input without
its scheme) and ``inputs`` (e.g. ``{inputs[clusterName]}``); ``outputs`` may also use ``arn`` and
``digest`` (17 stable hex digits), and may nest templates in dicts and lists (EKS returns objects).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Scope = Literal["global", "account", "region"]

GLOBAL_SERVICES = frozenset({"iam", "s3", "cloudfront", "route53", "organizations"})
"""AWS services whose ARNs carry no region."""


@dataclass(frozen=True)
class ResourceType:
    """The facts about one resource type (token as in Pulumi, e.g. ``aws:s3/bucket:Bucket``)."""

    token: str
    id: str | None = None
    """Template of the provider's id; None: the generic rule (``id_prefix``, else the physical name)."""
    id_prefix: str | None = None
    """EC2-style ids: ``<prefix>-0<17 hex digits>``, as AWS prints them."""
    arn: str | None = None
    """Template of the ARN; None: ``arn:aws:<service>:<region or empty>:<account>:<kind>/<name>``."""
    outputs: Mapping[str, object] = field(default_factory=dict)
    """Computed outputs the provider returns, as templates (inputs that depend on them vanish without)."""
    physical_name: str | None = None
    """The input holding the physical name AWS keeps unique."""
    name_scope: Scope | None = None
    """Where that name must be unique: across AWS (global), per account, or per account and region."""
    in_blueprint: bool = False
    """The blueprint's program creates it (its provider module is imported once before forking workers)."""
    stateful: bool = False
    """Deleting it loses data, keys or history: protected in prod (``prod-stateful-resources-protected``)."""

    @property
    def provider(self) -> str:
        """``aws``, ``kubernetes`` ..."""
        return self.token.split(":", 1)[0]

    @property
    def module(self) -> str:
        """The provider SDK's module of the type: ``s3`` for ``aws:s3/bucket:Bucket``."""
        return self.token.split(":")[1].split("/")[0]


_PLAN_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnBsYW4KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
"""A base64 PEM placeholder: what EKS returns as certificateAuthority.data (here: not a real certificate)."""


def _types(*types: ResourceType) -> Mapping[str, ResourceType]:
    return MappingProxyType({t.token: t for t in types})


def _blueprint(token: str, **facts) -> ResourceType:
    return ResourceType(token, in_blueprint=True, **facts)


RESOURCE_TYPES: Mapping[str, ResourceType] = _types(
    # -- created by the blueprint's program ------------------------------------------------------
    _blueprint("aws:s3/bucket:Bucket", id="{name}", arn="arn:aws:s3:::{name}", physical_name="bucket",
               name_scope="global", stateful=True, outputs={
                   "bucket": "{name}", "bucketDomainName": "{name}.s3.amazonaws.com",
                   "bucketRegionalDomainName": "{name}.s3.{region}.amazonaws.com", "region": "{region}"}),
    _blueprint("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
    _blueprint("aws:s3/bucketLogging:BucketLogging"),
    _blueprint("aws:s3/bucketOwnershipControls:BucketOwnershipControls"),
    _blueprint("aws:s3/bucketPolicy:BucketPolicy"),
    _blueprint("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"),
    _blueprint("aws:s3/bucketReplicationConfig:BucketReplicationConfig"),
    _blueprint("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
    _blueprint("aws:s3/bucketVersioning:BucketVersioning"),
    _blueprint("aws:kms/key:Key", id="{uuid}", arn="arn:aws:kms:{region}:{account}:key/{uuid}",
               outputs={"keyId": "{uuid}"}, stateful=True),
    _blueprint("aws:kms/alias:Alias", physical_name="name", name_scope="region"),
    _blueprint("aws:iam/role:Role", id="{name}", arn="arn:aws:iam::{account}:role/{name}", physical_name="name",
               name_scope="account", outputs={"uniqueId": "AROA{digest}"}),
    _blueprint("aws:iam/rolePolicy:RolePolicy"),
    _blueprint("aws:iam/policy:Policy", id="{arn}", arn="arn:aws:iam::{account}:policy/{name}",
               physical_name="name", name_scope="account"),
    _blueprint("aws:iam/openIdConnectProvider:OpenIdConnectProvider", id="{arn}",
               arn="arn:aws:iam::{account}:oidc-provider/{url_host}",
               physical_name="url", name_scope="account"),  # one provider per URL and account
    _blueprint("aws:cloudwatch/logGroup:LogGroup", id="{name}", arn="arn:aws:logs:{region}:{account}:log-group:{name}",
               physical_name="name", name_scope="region"),
    _blueprint("aws:ec2/vpc:Vpc", id_prefix="vpc"),
    _blueprint("aws:ec2/subnet:Subnet", id_prefix="subnet"),
    _blueprint("aws:ec2/internetGateway:InternetGateway", id_prefix="igw"),
    _blueprint("aws:ec2/routeTable:RouteTable", id_prefix="rtb"),
    _blueprint("aws:ec2/routeTableAssociation:RouteTableAssociation", id_prefix="rtbassoc"),
    _blueprint("aws:ec2/natGateway:NatGateway", id_prefix="nat"),
    _blueprint("aws:ec2/eip:Eip", id_prefix="eipalloc"),
    _blueprint("aws:ec2/securityGroup:SecurityGroup", id_prefix="sg"),
    _blueprint("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", id_prefix="sg"),
    _blueprint("aws:ec2/vpcEndpoint:VpcEndpoint", id_prefix="vpce"),
    _blueprint("aws:ec2/flowLog:FlowLog", id_prefix="fl"),
    _blueprint("aws:sagemaker/featureGroup:FeatureGroup", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:feature-group/{name}", physical_name="featureGroupName",
               name_scope="region", stateful=True),
    _blueprint("aws:glue/catalogDatabase:CatalogDatabase", id="{account}:{name}",
               arn="arn:aws:glue:{region}:{account}:database/{name}", physical_name="name", name_scope="region",
               stateful=True),
    _blueprint("aws:glue/crawler:Crawler", id="{name}", arn="arn:aws:glue:{region}:{account}:crawler/{name}",
               physical_name="name", name_scope="region"),
    _blueprint("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", id="{account}"),
    _blueprint("aws:athena/workgroup:Workgroup", id="{name}", arn="arn:aws:athena:{region}:{account}:workgroup/{name}",
               physical_name="name", name_scope="region"),
    # EKS (infra/components/cluster.py, node_pools.py, autoscaling.py)
    _blueprint("aws:eks/cluster:Cluster", id="{name}", arn="arn:aws:eks:{region}:{account}:cluster/{name}",
               physical_name="name", name_scope="region", outputs={
                   "endpoint": "https://{digest}A1B2C3D4E5F6A7B.gr7.{region}.eks.amazonaws.com",
                   "certificateAuthority": {"data": _PLAN_CA}, "status": "ACTIVE", "platformVersion": "eks.1",
                   "identities": [{"oidcs": [
                       {"issuer": "https://oidc.eks.{region}.amazonaws.com/id/{digest}A1B2C3D4E5F6A7B"}]}]}),
    _blueprint("aws:eks/nodeGroup:NodeGroup", id="{inputs[clusterName]}:{name}",
               arn="arn:aws:eks:{region}:{account}:nodegroup/{inputs[clusterName]}/{name}/{uuid}",
               physical_name="nodeGroupName", name_scope="region", outputs={
                   "status": "ACTIVE",
                   "resources": [{"autoscalingGroups": [{"name": "eks-{name}-{uuid}"}],
                                  "remoteAccessSecurityGroupId": ""}]}),
    _blueprint("aws:eks/addon:Addon", id="{inputs[clusterName]}:{inputs[addonName]}",
               arn="arn:aws:eks:{region}:{account}:addon/{inputs[clusterName]}/{inputs[addonName]}/{uuid}"),
    _blueprint("aws:eks/accessEntry:AccessEntry", id="{inputs[clusterName]}:{inputs[principalArn]}",
               arn="arn:aws:eks:{region}:{account}:access-entry/{inputs[clusterName]}/role/{account}/{uuid}",
               outputs={"accessEntryArn": "{arn}"}),
    _blueprint("aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
               id="{inputs[clusterName]}#{inputs[principalArn]}#{inputs[policyArn]}"),
    _blueprint("aws:ec2/launchTemplate:LaunchTemplate", id_prefix="lt", physical_name="name", name_scope="region",
               outputs={"latestVersion": "1", "defaultVersion": "1"}),
    _blueprint("aws:autoscaling/tag:Tag"),
    _blueprint("aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
    # -- stateful types the protection rule knows, whether or not the program creates them yet ---
    ResourceType("aws:s3/bucketV2:BucketV2", stateful=True),
    ResourceType("aws:ecr/repository:Repository", stateful=True),
    ResourceType("aws:sagemaker/modelPackageGroup:ModelPackageGroup", stateful=True),
    ResourceType("aws:sagemaker/domain:Domain", stateful=True),
    ResourceType("aws:dynamodb/table:Table", stateful=True),
    ResourceType("aws:efs/fileSystem:FileSystem", stateful=True),
    ResourceType("aws:fsx/lustreFileSystem:LustreFileSystem", stateful=True),
    ResourceType("aws:rds/instance:Instance", stateful=True),
    ResourceType("aws:rds/cluster:Cluster", stateful=True),
    ResourceType("aws:ebs/volume:Volume", stateful=True),
    ResourceType("aws:secretsmanager/secret:Secret", stateful=True),
    ResourceType("aws:backup/vault:Vault", stateful=True),
    ResourceType("aws:opensearch/domain:Domain", stateful=True),
    ResourceType("aws:elasticache/replicationGroup:ReplicationGroup", stateful=True),
)


def stateful_types() -> frozenset[str]:
    """Tokens of the types whose deletion loses data, keys or history."""
    return frozenset(t.token for t in RESOURCE_TYPES.values() if t.stateful)


def named_types() -> dict[str, ResourceType]:
    """Types whose physical name must be unique within a scope (the cross-stack collision check)."""
    return {t.token: t for t in RESOURCE_TYPES.values() if t.physical_name and t.name_scope}


def warm_up_modules(provider: str = "aws") -> list[str]:
    """The provider SDK modules the program uses, imported once before forking plan workers."""
    return sorted({t.module for t in RESOURCE_TYPES.values() if t.in_blueprint and t.provider == provider})
