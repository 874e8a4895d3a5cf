"""What the CI deploy role may do: the IAM actions that deploying each resource type of the blueprint
needs (create, read, update, delete, tag, as the AWS provider calls them), scoped to this account and
environment's resources.

The actions are a fact of each resource type; the CI policy is their union over the types the
blueprint creates, so adding a type without its actions fails `tests/infra/test_ci_permissions.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from infra.documents import Statement, allow
from infra.naming import Names

_S3_BUCKET_READ = ("s3:ListBucket", "s3:GetBucket*", "s3:GetAccelerateConfiguration",
                   "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
                   "s3:GetEncryptionConfiguration")
_TAG_EC2 = ("ec2:CreateTags", "ec2:DeleteTags")

DEPLOY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "aws:s3/bucket:Bucket": ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging",
                             "s3:PutBucketObjectLockConfiguration", *_S3_BUCKET_READ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    "aws:s3/bucketLogging:BucketLogging": ("s3:PutBucketLogging", "s3:GetBucketLogging"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": (
        "s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration", "iam:PassRole"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": (
        "s3:PutBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"),
    "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": (
        "s3:PutAccountPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
    "aws:kms/key:Key": ("kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy",
                        "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
                        "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
                        "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:EnableKey", "kms:DisableKey"),
    "aws:kms/alias:Alias": ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:ListAliases"),
    "aws:iam/role:Role": ("iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateRole", "iam:TagRole",
                          "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
                          "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                          "iam:ListInstanceProfilesForRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"),
    "aws:iam/policy:Policy": ("iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
                              "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy",
                              "iam:TagPolicy", "iam:UntagPolicy"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "iam:CreateOpenIDConnectProvider", "iam:GetOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
        "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
        "iam:RemoveClientIDFromOpenIDConnectProvider"),
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": (
        "iam:CreateServiceLinkedRole", "iam:GetRole", "iam:DeleteServiceLinkedRole",
        "iam:GetServiceLinkedRoleDeletionStatus"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups",
                                         "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
                                         "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource",
                                         "logs:UntagResource", "logs:ListTagsForResource"),
    "aws:ec2/vpc:Vpc": ("ec2:CreateVpc", "ec2:DeleteVpc", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute",
                        "ec2:ModifyVpcAttribute", "ec2:DescribeRouteTables", "ec2:DescribeNetworkAcls",
                        "ec2:DescribeSecurityGroups", *_TAG_EC2),
    "aws:ec2/subnet:Subnet": ("ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:DescribeSubnets",
                              "ec2:ModifySubnetAttribute", *_TAG_EC2),
    "aws:ec2/internetGateway:InternetGateway": (
        "ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
        "ec2:DeleteInternetGateway", "ec2:DescribeInternetGateways", *_TAG_EC2),
    "aws:ec2/routeTable:RouteTable": ("ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:DescribeRouteTables",
                                      "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", *_TAG_EC2),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (
        "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:DescribeRouteTables"),
    "aws:ec2/natGateway:NatGateway": ("ec2:CreateNatGateway", "ec2:DeleteNatGateway", "ec2:DescribeNatGateways",
                                      *_TAG_EC2),
    "aws:ec2/eip:Eip": ("ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DescribeAddresses",
                        "ec2:DescribeAddressesAttribute", "ec2:DisassociateAddress", *_TAG_EC2),
    "aws:ec2/securityGroup:SecurityGroup": (
        "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", *_TAG_EC2),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
        *_TAG_EC2),
    "aws:ec2/networkAcl:NetworkAcl": (
        "ec2:CreateNetworkAcl", "ec2:DeleteNetworkAcl", "ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry",
        "ec2:DeleteNetworkAclEntry", "ec2:ReplaceNetworkAclEntry", "ec2:ReplaceNetworkAclAssociation", *_TAG_EC2),
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": (
        "ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry",
        "ec2:ReplaceNetworkAclEntry", "ec2:ReplaceNetworkAclAssociation", *_TAG_EC2),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpoints", "ec2:ModifyVpcEndpoint",
        "ec2:DescribePrefixLists", "route53:AssociateVPCWithHostedZone", *_TAG_EC2),
    "aws:ec2/flowLog:FlowLog": ("ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:DescribeFlowLogs",
                                "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "iam:PassRole", *_TAG_EC2),
    "aws:ebs/encryptionByDefault:EncryptionByDefault": (
        "ec2:EnableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault", "ec2:GetEbsEncryptionByDefault"),
    "aws:cloudtrail/trail:Trail": (
        "cloudtrail:CreateTrail", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:StartLogging",
        "cloudtrail:StopLogging", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors", "cloudtrail:PutEventSelectors", "cloudtrail:GetInsightSelectors",
        "cloudtrail:AddTags", "cloudtrail:RemoveTags", "cloudtrail:ListTags"),
    "aws:guardduty/detector:Detector": (
        "guardduty:CreateDetector", "guardduty:GetDetector", "guardduty:UpdateDetector", "guardduty:DeleteDetector",
        "guardduty:ListDetectors", "guardduty:TagResource", "guardduty:UntagResource",
        "iam:CreateServiceLinkedRole"),
    "aws:cfg/recorder:Recorder": ("config:PutConfigurationRecorder", "config:DescribeConfigurationRecorders",
                                  "config:DeleteConfigurationRecorder", "iam:PassRole"),
    "aws:cfg/deliveryChannel:DeliveryChannel": (
        "config:PutDeliveryChannel", "config:DescribeDeliveryChannels", "config:DeleteDeliveryChannel"),
    "aws:cfg/recorderStatus:RecorderStatus": (
        "config:StartConfigurationRecorder", "config:StopConfigurationRecorder",
        "config:DescribeConfigurationRecorderStatus"),
}

# Actions that AWS authorizes on no resource (the service authorization reference lists none): `*`.
UNSCOPED = (
    "ec2:Describe*", "ec2:*EbsEncryptionByDefault", "kms:CreateKey", "kms:ListAliases",
    "logs:DescribeLogGroups", "logs:CreateLogDelivery", "logs:DeleteLogDelivery",
    "route53:AssociateVPCWithHostedZone", "s3:*AccountPublicAccessBlock", "guardduty:CreateDetector",
    "guardduty:ListDetectors", "cloudtrail:DescribeTrails", "config:*",
)


def _scopes(names: Names) -> list[tuple[str, str, list[str]]]:
    """(sid, action pattern, resources), first match wins: this account, and this environment's names."""
    account, env = names.account_id, names.environment_glob()
    service_linked = f"arn:aws:iam::{account}:role/aws-service-role/*"
    return [
        ("Unscoped", "*", ["*"]),  # UNSCOPED actions; matched before the rest of this list
        ("ServiceLinkedRoles", "iam:*ServiceLinkedRole*", [service_linked]),
        ("OidcProvider", "iam:*OpenIDConnectProvider*", [names.oidc_provider_arn()]),
        ("Roles", "iam:*Role*", [names.environment_role_arns(), service_linked]),  # incl. PassRole, inline policies
        ("Policies", "iam:*", [names.environment_policy_arns()]),
        ("Buckets", "s3:*", [f"arn:aws:s3:::{env}"]),
        ("KeyAliases", "kms:*Alias", [f"arn:aws:kms:*:{account}:alias/*", f"arn:aws:kms:*:{account}:key/*"]),
        ("Keys", "kms:*", [f"arn:aws:kms:*:{account}:key/*"]),
        ("LogGroups", "logs:*", [f"arn:aws:logs:*:{account}:log-group:*"]),
        ("Network", "ec2:*", [f"arn:aws:ec2:*:{account}:*"]),
        ("Trails", "cloudtrail:*", [f"arn:aws:cloudtrail:*:{account}:trail/*"]),
        ("Detectors", "guardduty:*", [f"arn:aws:guardduty:*:{account}:detector/*"]),
    ]


def deploy_actions(types: Iterable[str]) -> list[str]:
    """The union of the deploy actions of `types`, sorted; a type without known actions is an error."""
    unknown = sorted(t for t in types if t not in DEPLOY_ACTIONS)
    if unknown:
        raise KeyError(f"no deploy actions known for resource type(s) {unknown}: add them to DEPLOY_ACTIONS")
    return sorted({action for t in types for action in DEPLOY_ACTIONS[t]})


def deploy_statements(names: Names, types: Iterable[str]) -> list[Statement]:
    """Allow statements granting exactly the deploy actions of `types`, each on its narrowest scope."""
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    scopes = _scopes(names)
    for action in deploy_actions(types):
        if any(fnmatchcase(action, pattern) for pattern in UNSCOPED):
            sid, resources = "Unscoped", ["*"]
        else:
            sid, _, resources = next(s for s in scopes[1:] if fnmatchcase(action, s[1]))
        grouped.setdefault(sid, ([], resources))[0].append(action)
    order = [s[0] for s in scopes]
    return [allow(actions, resources if len(resources) > 1 else resources[0], sid=sid)
            for sid, (actions, resources) in sorted(grouped.items(), key=lambda item: order.index(item[0]))]


def verb_patterns(actions: Iterable[str]) -> list[str]:
    """`ec2:CreateVpc`, `ec2:CreateSubnet` -> `ec2:Create*`: a ceiling that new types of a known verb
    and scope fit under, so adding one rarely needs a boundary change (the admin path)."""
    return sorted({f"{service}:{_verb(name)}*" for service, name in (a.split(":", 1) for a in actions)})


def _verb(name: str) -> str:
    match = re.match(r"[A-Z][a-z]+", name)
    return match.group(0) if match else name


# Never widened: on `*` a verb would reach every bucket's objects (s3:Get*), and kms:Create* would
# include kms:CreateGrant, a way to decrypt.
# IAM's `*` spans `/`, so `arn:aws:s3:::*-prod-*` also names every object: s3 verbs stay exact too.
EXACT_IN_CEILING = ("Unscoped", "KeyAliases", "Keys", "Buckets")


def ceiling_statements(names: Names, types: Iterable[str]) -> list[Statement]:
    """The deploy statements with their actions widened to verbs on the same resources (bucket, role,
    network ... ARNs of this account and environment), except where a verb would reach data."""
    return [statement if statement["Sid"] in EXACT_IN_CEILING
            else {**statement, "Action": verb_patterns(statement["Action"])}
            for statement in deploy_statements(names, types)]
