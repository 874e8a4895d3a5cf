"""IAM: the workload permissions boundary, the GitHub-OIDC CI deploy role, and team execution roles."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.components import cluster_iam
from infra.documents import KEY_USE_ACTIONS, allow
from infra.naming import resource_name
from platform_lib.config.schema import PlatformConfig, TeamConfig

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
VPC_ENI_ACTIONS = [
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
]


def env_pattern(config: PlatformConfig | TeamConfig) -> str:
    """Names of this environment's resources: `<scope>-<env>-<purpose>...`."""
    return f"*-{config.environment}-*"


def workload_boundary_document(config: PlatformConfig) -> dict:
    """The ceiling of every workload role of this environment (team execution, replication, flow logs):
    only this environment's buckets, this account's keys, SageMaker and the logs they need."""
    account, env = config.account_id, env_pattern(config)
    return documents.document(
        allow(["s3:Get*", "s3:List*", "s3:PutObject*", "s3:DeleteObject*", "s3:AbortMultipartUpload",
               "s3:Replicate*"], [f"arn:aws:s3:::{env}", f"arn:aws:s3:::{env}/*"], sid="EnvironmentBuckets"),
        allow(KEY_USE_ACTIONS + ["kms:CreateGrant"], f"arn:aws:kms:*:{account}:key/*", sid="AccountKeys"),
        allow(["sagemaker:*"], f"arn:aws:sagemaker:*:{account}:*", sid="SageMaker"),
        allow(["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", *VPC_ENI_ACTIONS], "*", sid="Unscoped"),
        allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
              f"arn:aws:ecr:*:{account}:repository/*", sid="PullImages"),
        allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
               "logs:DescribeLogStreams"], f"arn:aws:logs:*:{account}:log-group:*", sid="Logs"),
        allow(["iam:PassRole"], f"arn:aws:iam::{account}:role/{env}", sid="PassWorkloadRoles",
              StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"}),
        *cluster_iam.boundary_statements(account),
    )


def ci_deploy_document(config: PlatformConfig) -> dict:
    """What CI needs to run `pulumi up` for this environment's stacks, scoped to the account and env."""
    account, env = config.account_id, env_pattern(config)
    return documents.document(
        allow(["ec2:*"], f"arn:aws:ec2:*:{account}:*", sid="Network"),
        allow(["ec2:Describe*", "ec2:CreateTags", "ec2:AllocateAddress", "ec2:CreateVpc",
               "kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "logs:DescribeLogGroups",
               "sagemaker:List*", "sagemaker:Search"], "*", sid="Unscoped"),
        allow(["s3:*"], [f"arn:aws:s3:::{env}", f"arn:aws:s3:::{env}/*"], sid="Buckets"),
        allow(["kms:*"], [f"arn:aws:kms:*:{account}:key/*", f"arn:aws:kms:*:{account}:alias/*"], sid="Keys"),
        allow(["logs:*"], f"arn:aws:logs:*:{account}:log-group:*", sid="Logs"),
        allow(["sagemaker:*"], f"arn:aws:sagemaker:*:{account}:*", sid="SageMaker"),
        allow(["iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:TagRole",
               "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy",
               "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:AttachRolePolicy",
               "iam:DetachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
               "iam:ListInstanceProfilesForRole", "iam:PassRole"],
              f"arn:aws:iam::{account}:role/{env}", sid="Roles"),
        allow(["iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion",
               "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:ListPolicyVersions",
               "iam:TagPolicy", "iam:UntagPolicy"], f"arn:aws:iam::{account}:policy/{env}", sid="Policies"),
        allow(["iam:GetOpenIDConnectProvider"], f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}",
              sid="ReadOidcProvider"),
        *cluster_iam.ci_statements(account, config.environment),
    )


def ci_boundary_document(config: PlatformConfig, workload_boundary_arn: str, ci_role_arn: str,
                         boundary_arns: list[str]) -> dict:
    """CI's ceiling: its own grants, and never an unbounded role, a user, or a change to itself or to
    the boundaries."""
    guards = [
        {"Sid": "RolesMustCarryTheWorkloadBoundary", "Effect": "Deny",
         "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": workload_boundary_arn}}},
        {"Sid": "NoBoundaryRemoval", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary",
         "Resource": "*"},
        {"Sid": "NoUsersOrKeys", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"},
        {"Sid": "NoSelfChange", "Effect": "Deny",
         "Action": ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                    "iam:DeleteRole", "iam:UpdateRole"], "Resource": ci_role_arn},
        {"Sid": "BoundariesAreFixed", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion"], "Resource": boundary_arns},
    ]
    return documents.document(*ci_deploy_document(config)["Statement"], *guards)


class PlatformIdentity(pulumi.ComponentResource):
    """The environment's workload boundary, the flow-logs role, and the CI deploy role that GitHub
    Actions assumes through OIDC for `environment:<env>` jobs only (no static keys)."""

    def __init__(self, name: str, config: PlatformConfig, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:security:PlatformIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        account = config.account_id

        boundary_name = resource_name(config, "workload-boundary")
        self.workload_boundary = aws.iam.Policy(
            boundary_name, name=boundary_name, description="Ceiling of every workload role of the environment",
            policy=pulumi.Output.json_dumps(workload_boundary_document(config)), opts=child,
        )

        flow_logs_name = resource_name(config, "flow-logs")
        self.flow_logs_role = aws.iam.Role(
            flow_logs_name, name=flow_logs_name,
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("vpc-flow-logs.amazonaws.com", account)),
            permissions_boundary=self.workload_boundary.arn, opts=child,
        )
        aws.iam.RolePolicy(
            f"{flow_logs_name}-policy", role=self.flow_logs_role.id,
            policy=pulumi.Output.json_dumps(documents.document(allow(
                ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                f"arn:aws:logs:*:{account}:log-group:/ml-platform/{config.environment}/vpc-flow-logs/*",
            ))),
            opts=child,
        )

        if config.ci.oidc_provider_arn:
            oidc_arn: pulumi.Input[str] = config.ci.oidc_provider_arn
        else:
            oidc_arn = aws.iam.OpenIdConnectProvider(
                resource_name(config, "github-oidc"), url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=["sts.amazonaws.com"],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, retain_on_delete=True),
            ).arn

        ci_name = resource_name(config, "ci-deploy")
        ci_role_arn = f"arn:aws:iam::{account}:role/{ci_name}"
        ci_boundary_name = resource_name(config, "ci-boundary")
        self.ci_boundary = aws.iam.Policy(
            ci_boundary_name, name=ci_boundary_name, description="Ceiling of the CI deploy role",
            policy=self.workload_boundary.arn.apply(lambda workload_arn: json.dumps(
                ci_boundary_document(config, workload_arn, ci_role_arn, [
                    workload_arn, f"arn:aws:iam::{account}:policy/{ci_boundary_name}",
                ])
            )),
            opts=child,
        )
        subject = f"repo:{config.ci.github_org}/{config.ci.github_repo}:environment:{config.environment}"
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
            policy=pulumi.Output.json_dumps(ci_deploy_document(config)), opts=child,
        )
        self.register_outputs({"workload_boundary_arn": self.workload_boundary.arn, "ci_role_arn": self.ci_role.arn})


class TeamIdentity(pulumi.ComponentResource):
    """The team's SageMaker execution role: its own buckets and keys, under the workload boundary."""

    def __init__(
        self,
        name: str,
        config: TeamConfig,
        bucket_arns: list[pulumi.Input[str]],
        key_arns: list[pulumi.Input[str]],
        permissions_boundary: pulumi.Input[str],
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("ml-platform:security:TeamIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        account, team = config.account_id, config.team
        role_name = resource_name(config, "sagemaker-execution")
        self.execution_role = aws.iam.Role(
            role_name, name=role_name,
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("sagemaker.amazonaws.com", account)),
            permissions_boundary=permissions_boundary, opts=child,
        )
        policy = pulumi.Output.all(buckets=bucket_arns, keys=key_arns).apply(lambda v: documents.document(
            allow(["s3:ListBucket", "s3:GetBucketLocation"], v["buckets"], sid="TeamBuckets"),
            allow(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                   "s3:AbortMultipartUpload"], [f"{arn}/*" for arn in v["buckets"]], sid="TeamObjects"),
            allow(KEY_USE_ACTIONS + ["kms:CreateGrant"], v["keys"], sid="TeamKeys"),
            allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                  [f"arn:aws:ecr:*:{account}:repository/{team}/*", f"arn:aws:ecr:*:{account}:repository/ml-platform/*"],
                  sid="PullImages"),
            allow(["ecr:GetAuthorizationToken", *VPC_ENI_ACTIONS], "*", sid="Unscoped"),
            allow(["cloudwatch:PutMetricData"], "*", sid="Metrics",
                  StringLike={"cloudwatch:namespace": ["/aws/sagemaker/*", f"ml-platform/{team}*"]}),
            allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                  f"arn:aws:logs:*:{account}:log-group:/aws/sagemaker/*", sid="Logs"),
            allow(["sagemaker:*"], f"arn:aws:sagemaker:*:{account}:*/{team}-{config.environment}-*",
                  sid="TeamSageMakerResources"),
        ))
        aws.iam.RolePolicy(f"{role_name}-policy", role=self.execution_role.id,
                           policy=pulumi.Output.json_dumps(policy), opts=child)
        self.register_outputs({"execution_role_arn": self.execution_role.arn})
