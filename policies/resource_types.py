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
    """Computed outputs the provider returns, as templates (inputs that depend on them vanish without);
    a template may be a list or mapping of templates (e.g. a certificate's validation records)."""
    physical_name: str | None = None
    """The input holding the physical name AWS keeps unique."""
    name_scope: Scope | None = None
    """Where that name must be unique: across AWS (global), per account, or per account and region."""
    in_blueprint: bool = False
    """The blueprint's program creates it (its provider module is imported once before forking workers)."""
    stateful: bool = False
    """Deleting it loses data, keys or history: protected in prod (``prod-stateful-resources-protected``)."""
    deploy_actions: tuple[str, ...] = ()
    """The IAM actions deploying it takes (create, read, update, delete, tag, as the provider calls them):
    the CI deploy role's permissions are their union over the blueprint's types (``infra/deploy_permissions.py``)."""

    @property
    def provider(self) -> str:
        """``aws``, ``kubernetes`` ..."""
        return self.token.split(":", 1)[0]

    @property
    def module(self) -> str:
        """The provider SDK's module of the type: ``s3`` for ``aws:s3/bucket:Bucket``."""
        return self.token.split(":")[1].split("/")[0]


# Shared by several types' deploy actions.
_S3_BUCKET_READ = ("s3:ListBucket", "s3:GetBucket*", "s3:GetAccelerateConfiguration",
                   "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
                   "s3:GetEncryptionConfiguration")
_TAG_EC2 = ("ec2:CreateTags", "ec2:DeleteTags")
_PLAN_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnBsYW4KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
"""A base64 PEM placeholder: what EKS returns as certificateAuthority.data (here: not a real certificate)."""
_TAG_SAGEMAKER = ("sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags")


def _ELB_WRITE(noun: str) -> tuple[str, ...]:  # noqa: N802 (reads like the other shared tuples)
    """Create, delete, describe and tag an Elastic Load Balancing v2 resource."""
    return (f"elasticloadbalancing:Create{noun}", f"elasticloadbalancing:Delete{noun}",
            f"elasticloadbalancing:Describe{noun}s", "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags", "elasticloadbalancing:DescribeTags")


def _types(*types: ResourceType) -> Mapping[str, ResourceType]:
    registry = {t.token: t for t in types}
    if len(registry) != len(types):
        twice = sorted({t.token for t in types if sum(u.token == t.token for u in types) > 1})
        raise ValueError(f"resource types registered twice: {', '.join(twice)}")
    return MappingProxyType(registry)


def _blueprint(token: str, **facts) -> ResourceType:
    return ResourceType(token, in_blueprint=True, **facts)


RESOURCE_TYPES: Mapping[str, ResourceType] = _types(
    # -- created by the blueprint's program ------------------------------------------------------
    _blueprint("aws:s3/bucket:Bucket", id="{name}", arn="arn:aws:s3:::{name}", physical_name="bucket",
               name_scope="global", stateful=True, outputs={
                   "bucket": "{name}", "bucketDomainName": "{name}.s3.amazonaws.com",
                   "bucketRegionalDomainName": "{name}.s3.{region}.amazonaws.com", "region": "{region}"},
               deploy_actions=("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging",
                               "s3:PutBucketObjectLockConfiguration", *_S3_BUCKET_READ)),
    _blueprint("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
               deploy_actions=("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration")),
    _blueprint("aws:s3/bucketLogging:BucketLogging",
               deploy_actions=("s3:PutBucketLogging", "s3:GetBucketLogging")),
    _blueprint("aws:s3/bucketOwnershipControls:BucketOwnershipControls",
               deploy_actions=("s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls")),
    _blueprint("aws:s3/bucketPolicy:BucketPolicy",
               deploy_actions=("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy")),
    _blueprint("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
               deploy_actions=("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock")),
    _blueprint("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
               deploy_actions=("s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration", "iam:PassRole")),
    _blueprint("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
               deploy_actions=("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration")),
    _blueprint("aws:s3/bucketVersioning:BucketVersioning",
               deploy_actions=("s3:PutBucketVersioning", "s3:GetBucketVersioning")),
    _blueprint("aws:kms/key:Key", id="{uuid}", arn="arn:aws:kms:{region}:{account}:key/{uuid}",
               outputs={"keyId": "{uuid}"}, stateful=True,
               deploy_actions=("kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
                               "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
                               "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
                               "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:EnableKey",
                               "kms:DisableKey")),
    _blueprint("aws:kms/alias:Alias", physical_name="name", name_scope="region",
               deploy_actions=("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:ListAliases")),
    _blueprint("aws:iam/role:Role", id="{name}", arn="arn:aws:iam::{account}:role/{name}", physical_name="name",
               name_scope="account", outputs={"uniqueId": "AROA{digest}"},
               deploy_actions=("iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateRole", "iam:TagRole",
                               "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
                               "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                               "iam:ListInstanceProfilesForRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy")),
    _blueprint("aws:iam/rolePolicy:RolePolicy",
               deploy_actions=("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy")),
    _blueprint("aws:iam/policy:Policy", id="{arn}", arn="arn:aws:iam::{account}:policy/{name}",
               physical_name="name", name_scope="account",
               deploy_actions=("iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
                               "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy",
                               "iam:TagPolicy", "iam:UntagPolicy")),
    _blueprint("aws:iam/openIdConnectProvider:OpenIdConnectProvider", id="{arn}",
               arn="arn:aws:iam::{account}:oidc-provider/{url_host}",
               physical_name="url", name_scope="account",
               deploy_actions=("iam:CreateOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
                               "iam:DeleteOpenIDConnectProvider", "iam:TagOpenIDConnectProvider",
                               "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
                               "iam:AddClientIDToOpenIDConnectProvider",
                               "iam:RemoveClientIDFromOpenIDConnectProvider")),  # one provider per URL and account
    _blueprint("aws:cloudwatch/logGroup:LogGroup", id="{name}", arn="arn:aws:logs:{region}:{account}:log-group:{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups",
                               "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey",
                               "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
                               "logs:ListTagsForResource")),
    _blueprint("aws:ec2/vpc:Vpc", id_prefix="vpc",
               outputs={"defaultNetworkAclId": "acl-0{digest}", "defaultSecurityGroupId": "sg-0{digest}",
                        "mainRouteTableId": "rtb-0{digest}"},
               deploy_actions=("ec2:CreateVpc", "ec2:DeleteVpc", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute",
                               "ec2:ModifyVpcAttribute", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls",
                               "ec2:DescribeSecurityGroups", *_TAG_EC2)),
    _blueprint("aws:ec2/subnet:Subnet", id_prefix="subnet",
               deploy_actions=("ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:DescribeSubnets",
                               "ec2:ModifySubnetAttribute", *_TAG_EC2)),
    _blueprint("aws:ec2/internetGateway:InternetGateway", id_prefix="igw",
               deploy_actions=("ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
                               "ec2:DeleteInternetGateway", "ec2:DescribeInternetGateways", *_TAG_EC2)),
    _blueprint("aws:ec2/routeTable:RouteTable", id_prefix="rtb",
               deploy_actions=("ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:DescribeRouteTables",
                               "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", *_TAG_EC2)),
    _blueprint("aws:ec2/routeTableAssociation:RouteTableAssociation", id_prefix="rtbassoc",
               deploy_actions=("ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:DescribeRouteTables")),
    _blueprint("aws:ec2/natGateway:NatGateway", id_prefix="nat",
               deploy_actions=("ec2:CreateNatGateway", "ec2:DeleteNatGateway", "ec2:DescribeNatGateways", *_TAG_EC2)),
    _blueprint("aws:ec2/eip:Eip", id_prefix="eipalloc",
               deploy_actions=("ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DescribeAddresses",
                               "ec2:DescribeAddressesAttribute", "ec2:DisassociateAddress", *_TAG_EC2)),
    _blueprint("aws:ec2/securityGroup:SecurityGroup", id_prefix="sg",
               deploy_actions=("ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:DescribeSecurityGroups",
                               "ec2:DescribeSecurityGroupRules", "ec2:AuthorizeSecurityGroupIngress",
                               "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
                               "ec2:RevokeSecurityGroupEgress", *_TAG_EC2)),
    _blueprint("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", id_prefix="sg",
               deploy_actions=("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules",
                               "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
                               "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", *_TAG_EC2)),
    _blueprint("aws:ec2/vpcEndpoint:VpcEndpoint", id_prefix="vpce", outputs={"prefixListId": "pl-0{digest}"},
               deploy_actions=("ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpoints",
                               "ec2:ModifyVpcEndpoint", "ec2:DescribePrefixLists",
                               "route53:AssociateVPCWithHostedZone", *_TAG_EC2)),
    _blueprint("aws:ec2/flowLog:FlowLog", id_prefix="fl",
               deploy_actions=("ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:DescribeFlowLogs",
                               "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "iam:PassRole", *_TAG_EC2)),
    _blueprint("aws:ec2/networkAcl:NetworkAcl", id_prefix="acl",
               deploy_actions=("ec2:CreateNetworkAcl", "ec2:DeleteNetworkAcl", "ec2:DescribeNetworkAcls",
                               "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry", "ec2:ReplaceNetworkAclEntry",
                               "ec2:ReplaceNetworkAclAssociation", *_TAG_EC2)),
    _blueprint("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl", id_prefix="acl",
               deploy_actions=("ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry",
                               "ec2:ReplaceNetworkAclEntry", "ec2:ReplaceNetworkAclAssociation", *_TAG_EC2)),
    _blueprint("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
               deploy_actions=("s3:PutBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration")),
    _blueprint("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
               deploy_actions=("s3:PutAccountPublicAccessBlock", "s3:GetAccountPublicAccessBlock")),
    _blueprint("aws:ebs/encryptionByDefault:EncryptionByDefault",
               deploy_actions=("ec2:EnableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault",
                               "ec2:GetEbsEncryptionByDefault")),
    _blueprint("aws:cloudtrail/trail:Trail", id="{name}", arn="arn:aws:cloudtrail:{region}:{account}:trail/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("cloudtrail:CreateTrail", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                               "cloudtrail:StartLogging", "cloudtrail:StopLogging", "cloudtrail:GetTrail",
                               "cloudtrail:GetTrailStatus", "cloudtrail:DescribeTrails",
                               "cloudtrail:GetEventSelectors", "cloudtrail:PutEventSelectors",
                               "cloudtrail:GetInsightSelectors", "cloudtrail:AddTags", "cloudtrail:RemoveTags",
                               "cloudtrail:ListTags")),
    _blueprint("aws:guardduty/detector:Detector", id="{uuid}", stateful=True,  # deleting it deletes its findings
               arn="arn:aws:guardduty:{region}:{account}:detector/{uuid}",
               deploy_actions=("guardduty:CreateDetector", "guardduty:GetDetector", "guardduty:UpdateDetector",
                               "guardduty:DeleteDetector", "guardduty:ListDetectors", "guardduty:TagResource",
                               "guardduty:UntagResource", "iam:CreateServiceLinkedRole")),
    _blueprint("aws:iam/serviceLinkedRole:ServiceLinkedRole",
               deploy_actions=("iam:CreateServiceLinkedRole", "iam:GetRole", "iam:DeleteServiceLinkedRole",
                               "iam:GetServiceLinkedRoleDeletionStatus")),
    _blueprint("aws:cfg/recorder:Recorder", id="{name}", physical_name="name", name_scope="region",
               deploy_actions=("config:PutConfigurationRecorder", "config:DescribeConfigurationRecorders",
                               "config:DeleteConfigurationRecorder", "iam:PassRole")),
    _blueprint("aws:cfg/deliveryChannel:DeliveryChannel", id="{name}", physical_name="name", name_scope="region",
               deploy_actions=("config:PutDeliveryChannel", "config:DescribeDeliveryChannels",
                               "config:DeleteDeliveryChannel")),
    _blueprint("aws:cfg/recorderStatus:RecorderStatus", id="{name}",
               deploy_actions=("config:StartConfigurationRecorder", "config:StopConfigurationRecorder",
                               "config:DescribeConfigurationRecorderStatus")),
    # registries, tracking, observability, budgets (issue 11)
    _blueprint("aws:sagemaker/modelPackageGroup:ModelPackageGroup", id="{name}", stateful=True,
               arn="arn:aws:sagemaker:{region}:{account}:model-package-group/{name}",
               physical_name="modelPackageGroupName", name_scope="region",
               outputs={"modelPackageGroupName": "{name}"},
               deploy_actions=("sagemaker:CreateModelPackageGroup", "sagemaker:DescribeModelPackageGroup",
                               "sagemaker:DeleteModelPackageGroup", *_TAG_SAGEMAKER)),
    _blueprint("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
               deploy_actions=("sagemaker:PutModelPackageGroupPolicy", "sagemaker:GetModelPackageGroupPolicy",
                               "sagemaker:DeleteModelPackageGroupPolicy")),
    _blueprint("aws:sagemaker/modelCard:ModelCard", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:model-card/{name}",
               physical_name="modelCardName", name_scope="region",
               deploy_actions=("sagemaker:CreateModelCard", "sagemaker:DescribeModelCard", "sagemaker:UpdateModelCard",
                               "sagemaker:DeleteModelCard", *_TAG_SAGEMAKER)),
    _blueprint("aws:ecr/repository:Repository", id="{name}", stateful=True,
               arn="arn:aws:ecr:{region}:{account}:repository/{name}", physical_name="name", name_scope="region",
               outputs={"repositoryUrl": "{account}.dkr.ecr.{region}.amazonaws.com/{name}", "registryId": "{account}"},
               deploy_actions=("ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DeleteRepository",
                               "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability", "ecr:TagResource",
                               "ecr:UntagResource", "ecr:ListTagsForResource", "kms:DescribeKey", "kms:RetireGrant")),
    # ECR also needs kms:CreateGrant on the repository's key: infra/deploy_permissions.py grants it only for
    # grants AWS services create (kms:GrantIsForAWSResource), never for the caller's own use
    _blueprint("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:mlflow-tracking-server/{name}",
               physical_name="trackingServerName", name_scope="region",
               outputs={"trackingServerUrl": "https://t-{digest}.{region}.experiments.sagemaker.aws"},
               deploy_actions=("sagemaker:CreateMlflowTrackingServer", "sagemaker:DescribeMlflowTrackingServer",
                               "sagemaker:UpdateMlflowTrackingServer", "sagemaker:DeleteMlflowTrackingServer",
                               *_TAG_SAGEMAKER, "iam:PassRole")),
    _blueprint("aws:sns/topic:Topic", id="{arn}", arn="arn:aws:sns:{region}:{account}:{name}", physical_name="name",
               name_scope="region",
               deploy_actions=("sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes",
                               "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
                               "sns:ListTagsForResource")),
    _blueprint("aws:sns/topicPolicy:TopicPolicy",
               deploy_actions=("sns:SetTopicAttributes", "sns:GetTopicAttributes")),
    _blueprint("aws:sns/topicSubscription:TopicSubscription", id="{arn}",
               arn="arn:aws:sns:{region}:{account}:subscription/{uuid}",
               deploy_actions=("sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes",
                               "sns:SetSubscriptionAttributes")),
    _blueprint("aws:cloudwatch/dashboard:Dashboard", id="{name}", arn="arn:aws:cloudwatch::{account}:dashboard/{name}",
               physical_name="dashboardName", name_scope="account", outputs={"dashboardArn": "{arn}"},
               deploy_actions=("cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards")),
    _blueprint("aws:cloudwatch/metricAlarm:MetricAlarm", id="{name}",
               arn="arn:aws:cloudwatch:{region}:{account}:alarm:{name}", physical_name="name", name_scope="region",
               deploy_actions=("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms",
                               "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource")),
    _blueprint("aws:cloudwatch/eventRule:EventRule", id="{name}", arn="arn:aws:events:{region}:{account}:rule/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("events:PutRule", "events:DescribeRule", "events:DeleteRule",
                               "events:ListTargetsByRule", "events:TagResource", "events:UntagResource",
                               "events:ListTagsForResource")),
    _blueprint("aws:budgets/budget:Budget", id="{account}:{name}", arn="arn:aws:budgets::{account}:budget/{name}",
               physical_name="name", name_scope="account",
               deploy_actions=("budgets:ModifyBudget", "budgets:ViewBudget", "budgets:TagResource",
                               "budgets:UntagResource", "budgets:ListTagsForResource")),
    _blueprint("aws:ecr/lifecyclePolicy:LifecyclePolicy",
               deploy_actions=("ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy")),
    _blueprint("aws:ecr/repositoryPolicy:RepositoryPolicy",
               deploy_actions=("ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy", "ecr:DeleteRepositoryPolicy")),
    _blueprint("aws:ecr/replicationConfiguration:ReplicationConfiguration", outputs={"registryId": "{account}"},
               deploy_actions=("ecr:PutReplicationConfiguration", "ecr:DescribeRegistry",
                               "iam:CreateServiceLinkedRole")),
    _blueprint("aws:sagemaker/featureGroup:FeatureGroup", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:feature-group/{name}", physical_name="featureGroupName",
               name_scope="region", stateful=True,
               deploy_actions=("sagemaker:CreateFeatureGroup", "sagemaker:DescribeFeatureGroup",
                               "sagemaker:UpdateFeatureGroup", "sagemaker:DeleteFeatureGroup", *_TAG_SAGEMAKER,
                               "iam:PassRole")),
    _blueprint("aws:glue/catalogDatabase:CatalogDatabase", id="{account}:{name}",
               arn="arn:aws:glue:{region}:{account}:database/{name}", physical_name="name", name_scope="region",
               stateful=True,
               deploy_actions=("glue:CreateDatabase", "glue:GetDatabase", "glue:UpdateDatabase", "glue:DeleteDatabase",
                               "glue:GetTags", "glue:TagResource", "glue:UntagResource")),
    _blueprint("aws:glue/crawler:Crawler", id="{name}", arn="arn:aws:glue:{region}:{account}:crawler/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("glue:CreateCrawler", "glue:GetCrawler", "glue:UpdateCrawler", "glue:DeleteCrawler",
                               "glue:GetTags", "glue:TagResource", "glue:UntagResource", "iam:PassRole")),
    _blueprint("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", id="{account}",
               deploy_actions=("glue:PutDataCatalogEncryptionSettings", "glue:GetDataCatalogEncryptionSettings")),
    _blueprint("aws:athena/workgroup:Workgroup", id="{name}", arn="arn:aws:athena:{region}:{account}:workgroup/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("athena:CreateWorkGroup", "athena:GetWorkGroup", "athena:UpdateWorkGroup",
                               "athena:DeleteWorkGroup", "athena:TagResource", "athena:UntagResource",
                               "athena:ListTagsForResource")),
    # EKS (infra/components/cluster.py, node_pools.py, autoscaling.py)
    _blueprint("aws:eks/cluster:Cluster", id="{name}", arn="arn:aws:eks:{region}:{account}:cluster/{name}",
               physical_name="name", name_scope="region", outputs={
                   "endpoint": "https://{digest}A1B2C3D4E5F6A7B.gr7.{region}.eks.amazonaws.com",
                   "certificateAuthority": {"data": _PLAN_CA}, "status": "ACTIVE", "platformVersion": "eks.1",
                   "identities": [{"oidcs": [
                       {"issuer": "https://oidc.eks.{region}.amazonaws.com/id/{digest}A1B2C3D4E5F6A7B"}]}],
                   "vpcConfig": {"clusterSecurityGroupId": "sg-0{digest}"}},
               deploy_actions=("eks:CreateCluster", "eks:DescribeCluster", "eks:UpdateClusterConfig",
                               "eks:UpdateClusterVersion", "eks:DeleteCluster", "eks:TagResource",
                               "eks:UntagResource", "eks:ListTagsForResource", "eks:DescribeUpdate",
                               "iam:PassRole", "iam:CreateServiceLinkedRole", "kms:DescribeKey",
                               "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")),
    _blueprint("aws:eks/nodeGroup:NodeGroup", id="{inputs[clusterName]}:{name}",
               arn="arn:aws:eks:{region}:{account}:nodegroup/{inputs[clusterName]}/{name}/{uuid}",
               physical_name="nodeGroupName", name_scope="region", outputs={
                   "status": "ACTIVE",
                   "resources": [{"autoscalingGroups": [{"name": "eks-{name}-{uuid}"}],
                                  "remoteAccessSecurityGroupId": ""}]},
               deploy_actions=("eks:CreateNodegroup", "eks:DescribeNodegroup", "eks:UpdateNodegroupConfig",
                               "eks:UpdateNodegroupVersion", "eks:DeleteNodegroup", "eks:TagResource",
                               "eks:UntagResource", "eks:DescribeUpdate", "iam:PassRole",
                               "iam:CreateServiceLinkedRole", "ec2:DescribeLaunchTemplateVersions",
                               "ec2:RunInstances", "autoscaling:DescribeAutoScalingGroups")),
    _blueprint("aws:eks/addon:Addon", id="{inputs[clusterName]}:{inputs[addonName]}",
               arn="arn:aws:eks:{region}:{account}:addon/{inputs[clusterName]}/{inputs[addonName]}/{uuid}",
               deploy_actions=("eks:CreateAddon", "eks:DescribeAddon", "eks:UpdateAddon", "eks:DeleteAddon",
                               "eks:DescribeAddonVersions", "eks:TagResource", "eks:UntagResource",
                               "eks:DescribeUpdate", "iam:PassRole")),
    _blueprint("aws:eks/accessEntry:AccessEntry", id="{inputs[clusterName]}:{inputs[principalArn]}",
               arn="arn:aws:eks:{region}:{account}:access-entry/{inputs[clusterName]}/role/{account}/{uuid}",
               outputs={"accessEntryArn": "{arn}"},
               deploy_actions=("eks:CreateAccessEntry", "eks:DescribeAccessEntry", "eks:UpdateAccessEntry",
                               "eks:DeleteAccessEntry", "eks:TagResource", "eks:UntagResource")),
    _blueprint("aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
               id="{inputs[clusterName]}#{inputs[principalArn]}#{inputs[policyArn]}",
               deploy_actions=("eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy",
                               "eks:ListAssociatedAccessPolicies")),
    _blueprint("aws:ec2/launchTemplate:LaunchTemplate", id_prefix="lt", physical_name="name", name_scope="region",
               outputs={"latestVersion": "1", "defaultVersion": "1"},
               deploy_actions=("ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion",
                               "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate",
                               "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", *_TAG_EC2)),
    _blueprint("aws:autoscaling/tag:Tag",
               deploy_actions=("autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
                               "autoscaling:DescribeTags")),
    _blueprint("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
               deploy_actions=("iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies")),
    _blueprint("aws:sagemaker/model:Model", arn="arn:aws:sagemaker:{region}:{account}:model/{name}",
               deploy_actions=("sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:DeleteModel",
                               *_TAG_SAGEMAKER, "iam:PassRole")),
    _blueprint("aws:sagemaker/endpointConfiguration:EndpointConfiguration",
               arn="arn:aws:sagemaker:{region}:{account}:endpoint-config/{name}",
               deploy_actions=("sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig",
                               "sagemaker:DeleteEndpointConfig", *_TAG_SAGEMAKER)),
    _blueprint("aws:sagemaker/endpoint:Endpoint", arn="arn:aws:sagemaker:{region}:{account}:endpoint/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint",
                               "sagemaker:DeleteEndpoint", "cloudwatch:DescribeAlarms", *_TAG_SAGEMAKER)),
    _blueprint("aws:appautoscaling/target:Target",
               deploy_actions=("application-autoscaling:RegisterScalableTarget",
                               "application-autoscaling:DescribeScalableTargets",
                               "application-autoscaling:DeregisterScalableTarget",
                               "application-autoscaling:TagResource", "application-autoscaling:UntagResource",
                               "application-autoscaling:ListTagsForResource", "iam:CreateServiceLinkedRole",
                               "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities")),
    _blueprint("aws:appautoscaling/policy:Policy",
               deploy_actions=("application-autoscaling:PutScalingPolicy",
                               "application-autoscaling:DescribeScalingPolicies",
                               "application-autoscaling:DeleteScalingPolicy", "cloudwatch:PutMetricAlarm",
                               "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms")),
    # -- retraining pipelines (infra/components/retraining.py) --
    _blueprint("aws:sagemaker/pipeline:Pipeline", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:pipeline/{name}", physical_name="pipelineName",
               name_scope="region",
               deploy_actions=("sagemaker:CreatePipeline", "sagemaker:DescribePipeline", "sagemaker:UpdatePipeline",
                               "sagemaker:DeletePipeline", *_TAG_SAGEMAKER, "iam:PassRole")),
    # serving routes, batch scoring and drift monitoring (issue 12)
    _blueprint("aws:acm/certificate:Certificate", id="{arn}",
               arn="arn:aws:acm:{region}:{account}:certificate/{uuid}",
               outputs={"domainValidationOptions": [{
                   "domainName": "{inputs[domainName]}", "resourceRecordName": "_{digest}.{inputs[domainName]}.",
                   "resourceRecordType": "CNAME", "resourceRecordValue": "_{digest}.acm-validations.aws."}]},
               deploy_actions=("acm:RequestCertificate", "acm:DescribeCertificate", "acm:DeleteCertificate",
                               "acm:ListTagsForCertificate", "acm:AddTagsToCertificate",
                               "acm:RemoveTagsFromCertificate", "acm:UpdateCertificateOptions")),
    _blueprint("aws:acm/certificateValidation:CertificateValidation",
               deploy_actions=("acm:DescribeCertificate",)),
    _blueprint("aws:route53/record:Record", id="{name}", outputs={"fqdn": "{name}"},
               deploy_actions=("route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets",
                               "route53:GetHostedZone", "route53:GetChange")),
    _blueprint("aws:route53/healthCheck:HealthCheck", id="{uuid}", arn="arn:aws:route53:::healthcheck/{uuid}",
               deploy_actions=("route53:CreateHealthCheck", "route53:GetHealthCheck", "route53:UpdateHealthCheck",
                               "route53:DeleteHealthCheck", "route53:ChangeTagsForResource",
                               "route53:ListTagsForResource", "cloudwatch:DescribeAlarms")),
    _blueprint("aws:apigateway/restApi:RestApi", id="{digest}", arn="arn:aws:apigateway:{region}::/restapis/{digest}",
               outputs={"rootResourceId": "r{digest}",
                        "executionArn": "arn:aws:execute-api:{region}:{account}:{digest}"},
               deploy_actions=("apigateway:POST", "apigateway:GET", "apigateway:PUT", "apigateway:PATCH",
                               "apigateway:DELETE")),   # tags are PUT/DELETE on /tags/<arn>
    *(_blueprint(f"aws:apigateway/{kind}", deploy_actions=("apigateway:POST", "apigateway:GET", "apigateway:PUT",
                                                           "apigateway:PATCH", "apigateway:DELETE"))
      for kind in ("resource:Resource", "method:Method", "integration:Integration", "methodResponse:MethodResponse",
                   "integrationResponse:IntegrationResponse", "deployment:Deployment", "stage:Stage",
                   "methodSettings:MethodSettings", "basePathMapping:BasePathMapping")),
    _blueprint("aws:apigateway/domainName:DomainName", id="{name}", physical_name="domainName", name_scope="region",
               arn="arn:aws:apigateway:{region}::/domainnames/{name}",
               outputs={"regionalDomainName": "d-{digest}.execute-api.{region}.amazonaws.com",
                        "regionalZoneId": "Z{digest}"},
               deploy_actions=("apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE",
                               "acm:DescribeCertificate")),
    _blueprint("aws:apigateway/account:Account",
               deploy_actions=("apigateway:GET", "apigateway:PATCH", "iam:PassRole")),
    _blueprint("aws:scheduler/schedule:Schedule", id="default/{name}", physical_name="name", name_scope="region",
               arn="arn:aws:scheduler:{region}:{account}:schedule/default/{name}",
               deploy_actions=("scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule",
                               "scheduler:DeleteSchedule", "iam:PassRole")),
    _blueprint("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:data-quality-job-definition/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("sagemaker:CreateDataQualityJobDefinition", "sagemaker:DescribeDataQualityJobDefinition",
                               "sagemaker:DeleteDataQualityJobDefinition", *_TAG_SAGEMAKER, "iam:PassRole")),
    _blueprint("aws:sagemaker/monitoringSchedule:MonitoringSchedule", id="{name}",
               arn="arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{name}",
               physical_name="name", name_scope="region",
               deploy_actions=("sagemaker:CreateMonitoringSchedule", "sagemaker:DescribeMonitoringSchedule",
                               "sagemaker:UpdateMonitoringSchedule", "sagemaker:DeleteMonitoringSchedule",
                               *_TAG_SAGEMAKER)),
    # front doors of models served on Kubernetes (infra/components/service_door.py)
    _blueprint("aws:lb/loadBalancer:LoadBalancer", physical_name="name", name_scope="region",
               arn="arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/net/{name}/{digest}",
               id="arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/net/{name}/{digest}",
               outputs={"dnsName": "{name}-{digest}.elb.{region}.amazonaws.com", "zoneId": "Z{digest}",
                        "arnSuffix": "net/{name}/{digest}"},
               deploy_actions=(*_ELB_WRITE("LoadBalancer"), "elasticloadbalancing:DescribeLoadBalancerAttributes",
                               "elasticloadbalancing:ModifyLoadBalancerAttributes",
                               "elasticloadbalancing:DescribeCapacityReservation", "iam:CreateServiceLinkedRole",
                               "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")),
    _blueprint("aws:lb/targetGroup:TargetGroup", physical_name="name", name_scope="region",
               arn="arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{digest}",
               id="arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{digest}",
               outputs={"arnSuffix": "targetgroup/{name}/{digest}"},
               deploy_actions=(*_ELB_WRITE("TargetGroup"), "elasticloadbalancing:DescribeTargetGroupAttributes",
                               "elasticloadbalancing:ModifyTargetGroup",
                               "elasticloadbalancing:ModifyTargetGroupAttributes")),
    _blueprint("aws:lb/listener:Listener",
               arn="arn:aws:elasticloadbalancing:{region}:{account}:listener/net/{digest}",
               id="arn:aws:elasticloadbalancing:{region}:{account}:listener/net/{digest}",
               deploy_actions=(*_ELB_WRITE("Listener"), "elasticloadbalancing:ModifyListener",
                               "elasticloadbalancing:DescribeListenerAttributes",
                               "elasticloadbalancing:ModifyListenerAttributes")),
    *(_blueprint(f"aws:vpc/securityGroup{way}Rule:SecurityGroup{way}Rule", id_prefix="sgr",
                 deploy_actions=(f"ec2:AuthorizeSecurityGroup{way}", f"ec2:RevokeSecurityGroup{way}",
                                 "ec2:DescribeSecurityGroupRules", "ec2:ModifySecurityGroupRules", *_TAG_EC2))
      for way in ("Ingress", "Egress")),
    _blueprint("aws:apigatewayv2/vpcLink:VpcLink", id="{digest}", arn="arn:aws:apigateway:{region}::/vpclinks/{digest}",
               deploy_actions=("apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE",
                               "apigateway:PUT", "iam:CreateServiceLinkedRole", "ec2:DescribeSubnets",
                               "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs")),
    # Issue 14: a retraining pipeline started by new data (S3 -> EventBridge -> StartPipelineExecution).
    _blueprint("aws:s3/bucketNotification:BucketNotification", id="{inputs[bucket]}",
               deploy_actions=("s3:PutBucketNotification", "s3:GetBucketNotification")),
    _blueprint("aws:cloudwatch/eventTarget:EventTarget", id="{inputs[rule]}-{name}",
               deploy_actions=("events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
                               "iam:PassRole")),
    # -- stateful types the protection rule knows, whether or not the program creates them yet ---
    ResourceType("aws:s3/bucketV2:BucketV2", stateful=True),
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
