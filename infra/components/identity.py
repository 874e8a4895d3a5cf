"""IAM: the workload permissions boundary, the GitHub-OIDC CI deploy role, and team execution roles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.components import cluster_iam
from infra.documents import KEY_USE_ACTIONS, allow
from infra.naming import GITHUB_OIDC_HOST, Names

WORKLOAD_BOUNDARY, CI_ROLE, CI_BOUNDARY = "workload-boundary", "ci-deploy", "ci-boundary"
VPC_ENI_ACTIONS = [
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
]


@dataclass(frozen=True)
class PlatformIdentityArgs:
    """The environment's identities: who may deploy it (GitHub OIDC) and the workload ceiling."""

    names: Names
    github_org: str
    github_repo: str
    oidc_provider_arn: str | None      # the account's existing GitHub OIDC provider, or None to create it


@dataclass(frozen=True)
class TeamIdentityArgs:
    """A team's SageMaker execution role: what it may use, under the platform's workload boundary."""

    names: Names
    bucket_arns: Sequence[pulumi.Input[str]]
    key_arns: Sequence[pulumi.Input[str]]
    permissions_boundary: pulumi.Input[str]


def workload_boundary_document(names: Names) -> dict:
    """The ceiling of every workload role of this environment (team execution, replication, flow logs):
    only this environment's buckets, this account's keys, SageMaker and the logs they need."""
    account = names.account_id
    return documents.document(
        allow(["s3:Get*", "s3:List*", "s3:PutObject*", "s3:DeleteObject*", "s3:AbortMultipartUpload",
               "s3:Replicate*"], names.environment_bucket_arns(), sid="EnvironmentBuckets"),
        allow(KEY_USE_ACTIONS + ["kms:CreateGrant"], f"arn:aws:kms:*:{account}:key/*", sid="AccountKeys"),
        allow(["sagemaker:*"], f"arn:aws:sagemaker:*:{account}:*", sid="SageMaker"),
        allow(["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", *VPC_ENI_ACTIONS], "*", sid="Unscoped"),
        allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
              f"arn:aws:ecr:*:{account}:repository/*", sid="PullImages"),
        allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
               "logs:DescribeLogStreams"], f"arn:aws:logs:*:{account}:log-group:*", sid="Logs"),
        allow(["iam:PassRole"], names.environment_role_arns(), sid="PassWorkloadRoles",
              StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"}),
        # Feature store offline tables and the curated crawler: this environment's Glue databases only.
        allow(["glue:Get*", "glue:BatchGet*", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
               "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:DeletePartition",
               "glue:BatchDeletePartition"], names.environment_glue_arns(), sid="EnvironmentCatalog"),
        *cluster_iam.boundary_statements(account),
    )


def ci_deploy_document(names: Names) -> dict:
    """What CI needs to run `pulumi up` for this environment's stacks, scoped to the account and env."""
    account = names.account_id
    return documents.document(
        allow(["ec2:*"], f"arn:aws:ec2:*:{account}:*", sid="Network"),
        allow(["ec2:Describe*", "ec2:CreateTags", "ec2:AllocateAddress", "ec2:CreateVpc",
               "kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "logs:DescribeLogGroups",
               "sagemaker:List*", "sagemaker:Search"], "*", sid="Unscoped"),
        allow(["s3:*"], names.environment_bucket_arns(), sid="Buckets"),
        allow(["kms:*"], [f"arn:aws:kms:*:{account}:key/*", f"arn:aws:kms:*:{account}:alias/*"], sid="Keys"),
        allow(["logs:*"], f"arn:aws:logs:*:{account}:log-group:*", sid="Logs"),
        allow(["sagemaker:*"], f"arn:aws:sagemaker:*:{account}:*", sid="SageMaker"),
        allow(["iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:TagRole",
               "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy",
               "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:AttachRolePolicy",
               "iam:DetachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
               "iam:ListInstanceProfilesForRole", "iam:PassRole"],
              names.environment_role_arns(), sid="Roles"),
        allow(["iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
               "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:ListPolicyVersions",
               "iam:TagPolicy", "iam:UntagPolicy"], names.environment_policy_arns(), sid="Policies"),
        allow(["iam:GetOpenIDConnectProvider"], names.oidc_provider_arn(), sid="ReadOidcProvider"),
        *cluster_iam.ci_statements(account, names.environment),
    )


def ci_boundary_document(names: Names, workload_boundary_arn: str) -> dict:
    """CI's ceiling: its own grants, and never an unbounded role, a user, or a change to itself or to
    the boundaries."""
    guards: list[documents.Statement] = [
        {"Sid": "RolesMustCarryTheWorkloadBoundary", "Effect": "Deny",
         "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": workload_boundary_arn}}},
        {"Sid": "NoBoundaryRemoval", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary",
         "Resource": "*"},
        {"Sid": "NoUsersOrKeys", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"},
        {"Sid": "NoSelfChange", "Effect": "Deny",
         "Action": ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                    "iam:DeleteRole", "iam:UpdateRole"], "Resource": names.role_arn(CI_ROLE)},
        {"Sid": "BoundariesAreFixed", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion"],
         "Resource": [workload_boundary_arn, names.policy_arn(CI_BOUNDARY)]},
    ]
    return documents.document(*ci_deploy_document(names)["Statement"], *guards)


class PlatformIdentity(pulumi.ComponentResource):
    """The environment's workload boundary, the flow-logs role, and the CI deploy role that GitHub
    Actions assumes through OIDC for `environment:<env>` jobs only (no static keys)."""

    def __init__(self, name: str, args: PlatformIdentityArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:security:PlatformIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        names = args.names
        account = names.account_id

        boundary_name = names.resource(WORKLOAD_BOUNDARY)
        self.workload_boundary = aws.iam.Policy(
            boundary_name, name=boundary_name, description="Ceiling of every workload role of the environment",
            policy=pulumi.Output.json_dumps(workload_boundary_document(names)), opts=child,
        )

        flow_logs_name = names.resource("flow-logs")
        self.flow_logs_role = aws.iam.Role(
            flow_logs_name, name=flow_logs_name,
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("vpc-flow-logs.amazonaws.com", account)),
            permissions_boundary=self.workload_boundary.arn, opts=child,
        )
        aws.iam.RolePolicy(
            f"{flow_logs_name}-policy", role=self.flow_logs_role.id,
            policy=pulumi.Output.json_dumps(documents.document(allow(
                ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                names.flow_log_groups_arn(),
            ))),
            opts=child,
        )

        if args.oidc_provider_arn:
            oidc_arn: pulumi.Input[str] = args.oidc_provider_arn
        else:
            oidc_arn = aws.iam.OpenIdConnectProvider(
                names.resource("github-oidc"), url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=["sts.amazonaws.com"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, retain_on_delete=True),
            ).arn

        ci_name = names.resource(CI_ROLE)
        ci_boundary_name = names.resource(CI_BOUNDARY)
        self.ci_boundary = aws.iam.Policy(
            ci_boundary_name, name=ci_boundary_name, description="Ceiling of the CI deploy role",
            policy=self.workload_boundary.arn.apply(
                lambda workload_arn: json.dumps(ci_boundary_document(names, workload_arn))),
            opts=child,
        )
        subject = f"repo:{args.github_org}/{args.github_repo}:environment:{names.environment}"
        trust = pulumi.Output.from_input(oidc_arn).apply(lambda arn: documents.document({
            "Effect": "Allow",
            "Principal": {"Federated": arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com", f"{GITHUB_OIDC_HOST}:sub": subject},
            },
        }))
        self.ci_role = aws.iam.Role(
            ci_name, name=ci_name, assume_role_policy=pulumi.Output.json_dumps(trust),
            permissions_boundary=self.ci_boundary.arn, max_session_duration=3600, opts=child,
        )
        aws.iam.RolePolicy(
            f"{ci_name}-policy", role=self.ci_role.id,
            policy=pulumi.Output.json_dumps(ci_deploy_document(names)), opts=child,
        )
        self.register_outputs({"workload_boundary_arn": self.workload_boundary.arn, "ci_role_arn": self.ci_role.arn})


class TeamIdentity(pulumi.ComponentResource):
    """The team's SageMaker execution role: its own buckets and keys, under the workload boundary."""

    def __init__(
        self,
        name: str,
        args: TeamIdentityArgs,
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("ml-platform:security:TeamIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        names = args.names
        role_name = names.resource("sagemaker-execution")
        self.execution_role = aws.iam.Role(
            role_name, name=role_name,
            assume_role_policy=pulumi.Output.json_dumps(
                documents.assume_role("sagemaker.amazonaws.com", names.account_id)),
            permissions_boundary=args.permissions_boundary, opts=child,
        )
        policy = pulumi.Output.all(buckets=list(args.bucket_arns), keys=list(args.key_arns)).apply(
            lambda v: documents.document(
            allow(["s3:ListBucket", "s3:GetBucketLocation"], v["buckets"], sid="TeamBuckets"),
            allow(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                   "s3:AbortMultipartUpload"], [f"{arn}/*" for arn in v["buckets"]], sid="TeamObjects"),
            allow(KEY_USE_ACTIONS + ["kms:CreateGrant"], v["keys"], sid="TeamKeys"),
            allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                  names.image_repositories_arns(), sid="PullImages"),
            allow(["ecr:GetAuthorizationToken", *VPC_ENI_ACTIONS], "*", sid="Unscoped"),
            allow(["cloudwatch:PutMetricData"], "*", sid="Metrics",
                  StringLike={"cloudwatch:namespace": ["/aws/sagemaker/*", names.metric_namespace_pattern()]}),
            allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                  names.log_group_arn("/aws/sagemaker/*"), sid="Logs"),
            allow(["sagemaker:*"], names.sagemaker_resources_arn(), sid="TeamSageMakerResources"),
        ))
        aws.iam.RolePolicy(f"{role_name}-policy", role=self.execution_role.id,
                           policy=pulumi.Output.json_dumps(policy), opts=child)
        self.register_outputs({"execution_role_arn": self.execution_role.arn})
