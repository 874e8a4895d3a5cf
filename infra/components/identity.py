"""IAM: the workload permissions boundary, the GitHub-OIDC CI deploy role, and team execution roles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.components import cluster_iam
from infra.components.tracking import TRACKING_CEILING
from infra.deploy_permissions import ceiling_statements, deploy_statements
from infra.documents import KEY_USE_ACTIONS, allow, grants_for_aws_resources, in_account
from infra.guardrails import sagemaker_guardrails
from infra.naming import GITHUB_OIDC_HOST, Names

WORKLOAD_BOUNDARY, CI_ROLE, CI_BOUNDARY = "workload-boundary", "ci-deploy", "ci-boundary"
EXECUTION_ROLE, BREAK_GLASS_ROLE = "sagemaker-execution", "break-glass"
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
    deployed_types: Sequence[str]      # resource types the CI role deploys (its permissions derive from them)
    sagemaker_subnet_ids: pulumi.Input[Sequence[str]]           # where workloads may run (every region)
    sagemaker_security_group_ids: pulumi.Input[Sequence[str]]


@dataclass(frozen=True)
class TeamIdentityArgs:
    """A team's SageMaker execution role: what it may use, under the platform's workload boundary."""

    names: Names
    primary_bucket_arns: Sequence[pulumi.Input[str]]   # read and write
    replica_bucket_arns: Sequence[pulumi.Input[str]]   # read only: replication writes them
    key_arns: Sequence[pulumi.Input[str]]
    permissions_boundary: pulumi.Input[str]
    sagemaker_subnet_ids: pulumi.Input[Sequence[str]]
    sagemaker_security_group_ids: pulumi.Input[Sequence[str]]
    break_glass: bool                                  # create the perimeter's break-glass role


SAGEMAKER_WORKLOAD_ACTIONS = [
    "sagemaker:Create*", "sagemaker:Describe*", "sagemaker:List*", "sagemaker:Stop*", "sagemaker:Update*",
    "sagemaker:Delete*", "sagemaker:AddTags", "sagemaker:Search", "sagemaker:InvokeEndpoint",
    "sagemaker:InvokeEndpointAsync", "sagemaker:StartPipelineExecution", "sagemaker:BatchPutMetrics",
]
LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
S3_WORKLOAD_ACTIONS = ["s3:Get*", "s3:List*", "s3:PutObject*", "s3:DeleteObject*", "s3:AbortMultipartUpload",
                       "s3:Replicate*"]


def workload_boundary_document(names: Names, subnet_ids: Sequence[str], security_group_ids: Sequence[str]) -> dict:
    """The ceiling of every workload role of this environment (team execution, replication, flow logs):
    only this environment's buckets in this account, this account's keys (grants only for AWS resources),
    SageMaker only inside the platform's VPC, and no log group creation (the stacks create them)."""
    account = names.account_id
    account_keys = f"arn:aws:kms:*:{account}:key/*"
    return documents.document(
        allow(S3_WORKLOAD_ACTIONS, names.environment_bucket_arns(), sid="EnvironmentBuckets", **in_account(account)),
        allow(KEY_USE_ACTIONS, account_keys, sid="AccountKeys"),
        grants_for_aws_resources(account_keys, sid="AccountKeyGrants"),
        allow(SAGEMAKER_WORKLOAD_ACTIONS, f"arn:aws:sagemaker:*:{account}:*", sid="SageMaker"),
        allow(TRACKING_CEILING, f"arn:aws:sagemaker:*:{account}:mlflow-tracking-server/*", sid="Mlflow"),
        allow(documents.compact_actions(["ecr:GetAuthorizationToken", "cloudwatch:PutMetricData",
                                         "logs:DescribeLogGroups"], VPC_ENI_ACTIONS,
                                        cluster_iam.NODE_UNSCOPED_ACTIONS), "*", sid="Unscoped"),
        allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
              f"arn:aws:ecr:*:{account}:repository/*", sid="PullImages"),
        allow(LOG_WRITE_ACTIONS, names.log_group_arn("*"), sid="Logs"),
        allow(["iam:PassRole"], names.environment_role_arns(), sid="PassWorkloadRoles",
              StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"}),
        # Feature store offline tables and the curated crawler: this environment's Glue databases only.
        allow(["glue:Get*", "glue:BatchGet*", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
               "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition", "glue:DeletePartition",
               "glue:BatchDeletePartition"], names.environment_glue_arns(), sid="EnvironmentCatalog"),
        *sagemaker_guardrails(subnet_ids, security_group_ids, [account_keys]),
        *cluster_iam.boundary_statements(account),
    )


def ci_deploy_documents(names: Names, deployed_types: Sequence[str]) -> list[dict]:
    """What CI needs to run `pulumi up` for this environment's stacks: the deploy actions of the
    blueprint's resource types, scoped to the account and environment. No object reads, no decryption.
    As managed policies of at most 6,144 characters each: together they exceed a role's inline limit."""
    return documents.packed(deploy_statements(names, deployed_types))


def ci_boundary_document(names: Names, deployed_types: Sequence[str], workload_boundary_arn: str) -> dict:
    """CI's ceiling: its own grants, and never an unbounded role, a user, a change to its trust or to
    the boundaries (the admin path: see docs/security.md). It may update its own inline policy, which
    stays under this ceiling."""
    guards: list[documents.Statement] = [
        {"Sid": "RolesMustCarryTheWorkloadBoundary", "Effect": "Deny",
         "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": workload_boundary_arn}}},
        {"Sid": "NoBoundaryRemoval", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary",
         "Resource": "*"},
        {"Sid": "NoUsersOrKeys", "Effect": "Deny",
         "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"},
        {"Sid": "NoSelfChange", "Effect": "Deny",
         "Action": ["iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole", "iam:UpdateRole",
                    "iam:PutRolePermissionsBoundary"], "Resource": names.role_arn(CI_ROLE)},
        {"Sid": "BoundariesAreFixed", "Effect": "Deny",
         "Action": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                    "iam:SetDefaultPolicyVersion"],
         "Resource": [workload_boundary_arn, names.policy_arn(CI_BOUNDARY)]},
    ]
    return documents.document(*ceiling_statements(names, deployed_types), *guards)


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
        boundary = pulumi.Output.all(args.sagemaker_subnet_ids, args.sagemaker_security_group_ids).apply(
            lambda ids: workload_boundary_document(names, ids[0], ids[1]))
        self.workload_boundary = aws.iam.Policy(
            boundary_name, name=boundary_name, description="Ceiling of every workload role of the environment",
            policy=pulumi.Output.json_dumps(boundary), opts=child,
        )

        flow_logs_name = names.resource("flow-logs")
        self.flow_logs_role = aws.iam.Role(
            flow_logs_name, name=flow_logs_name,
            assume_role_policy=pulumi.Output.json_dumps(documents.assume_role("vpc-flow-logs.amazonaws.com", account)),
            permissions_boundary=self.workload_boundary.arn, opts=child,
        )
        aws.iam.RolePolicy(
            f"{flow_logs_name}-policy", role=self.flow_logs_role.id,
            policy=pulumi.Output.json_dumps(documents.document(
                allow(LOG_WRITE_ACTIONS, names.flow_log_groups_arn(), sid="FlowLogGroups"),
                allow(["logs:DescribeLogGroups"], "*", sid="ListLogGroups"),
            )),
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
            policy=pulumi.Output.json_dumps(self.workload_boundary.arn.apply(
                lambda workload_arn: ci_boundary_document(names, args.deployed_types, workload_arn))),
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
        for number, policy in enumerate(ci_deploy_documents(names, args.deployed_types), start=1):
            deploy_name = names.resource(f"{CI_ROLE}-{number}")
            deploy = aws.iam.Policy(deploy_name, name=deploy_name, description="What the CI deploy role may deploy",
                                    policy=json.dumps(policy), opts=child)
            aws.iam.RolePolicyAttachment(deploy_name, role=self.ci_role.name, policy_arn=deploy.arn, opts=child)
        self.register_outputs({"workload_boundary_arn": self.workload_boundary.arn, "ci_role_arn": self.ci_role.arn})


class TeamIdentity(pulumi.ComponentResource):
    """The team's SageMaker execution role (its own buckets and keys, SageMaker only inside the
    platform's VPC) and, when the data perimeter is on, the break-glass role; under the workload boundary."""

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
        role_name = names.resource(EXECUTION_ROLE)
        self.execution_role = aws.iam.Role(
            role_name, name=role_name,
            assume_role_policy=pulumi.Output.json_dumps(
                documents.assume_role("sagemaker.amazonaws.com", names.account_id)),
            permissions_boundary=args.permissions_boundary, opts=child,
        )
        policy = pulumi.Output.all(
            primary=list(args.primary_bucket_arns), replicas=list(args.replica_bucket_arns), keys=list(args.key_arns),
            subnets=args.sagemaker_subnet_ids, groups=args.sagemaker_security_group_ids,
        ).apply(lambda v: execution_role_document(names, v["primary"], v["replicas"], v["keys"], v["subnets"],
                                                  v["groups"]))
        aws.iam.RolePolicy(f"{role_name}-policy", role=self.execution_role.id,
                           policy=pulumi.Output.json_dumps(policy), opts=child)

        self.break_glass_role: aws.iam.Role | None = None
        if args.break_glass:
            self.break_glass_role = self._break_glass(args, child)
        self.register_outputs({"execution_role_arn": self.execution_role.arn})

    @staticmethod
    def _break_glass(args: TeamIdentityArgs, child: pulumi.ResourceOptions) -> aws.iam.Role:
        """Reads the team's data from outside the perimeter, for incidents: assumed with MFA by people
        an account administrator allows to (`sts:AssumeRole` on it), for an hour; CloudTrail records it."""
        names = args.names
        role_name = names.resource(BREAK_GLASS_ROLE)
        trust = documents.document({
            "Effect": "Allow", "Principal": {"AWS": documents.root(names.account_id)}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        })
        role = aws.iam.Role(role_name, name=role_name, assume_role_policy=pulumi.Output.json_dumps(trust),
                            permissions_boundary=args.permissions_boundary, max_session_duration=3600, opts=child)
        policy = pulumi.Output.all(buckets=[*args.primary_bucket_arns, *args.replica_bucket_arns],
                                   keys=list(args.key_arns)).apply(lambda v: documents.document(
            allow(["s3:ListBucket", "s3:GetBucketLocation"], v["buckets"], sid="TeamBuckets",
                  **in_account(names.account_id)),
            allow(["s3:GetObject", "s3:GetObjectVersion"], [f"{arn}/*" for arn in v["buckets"]], sid="ReadObjects",
                  **in_account(names.account_id)),
            allow(["kms:Decrypt", "kms:DescribeKey"], v["keys"], sid="TeamKeys"),
        ))
        aws.iam.RolePolicy(f"{role_name}-policy", role=role.id, policy=pulumi.Output.json_dumps(policy), opts=child)
        return role


def execution_role_document(names: Names, primary_buckets: Sequence[str], replica_buckets: Sequence[str],
                            keys: Sequence[str], subnet_ids: Sequence[str],
                            security_group_ids: Sequence[str]) -> dict:
    """The team's own buckets (writes to the primary ones only), keys and SageMaker resources; jobs
    and models only inside the platform's VPC, isolated, encrypted with the team's keys."""
    account = names.account_id
    all_buckets = [*primary_buckets, *replica_buckets]
    return documents.document(
        allow(["s3:ListBucket", "s3:GetBucketLocation"], all_buckets, sid="TeamBuckets", **in_account(account)),
        allow(["s3:GetObject", "s3:GetObjectVersion"], [f"{arn}/*" for arn in all_buckets], sid="ReadObjects",
              **in_account(account)),
        allow(["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
              [f"{arn}/*" for arn in primary_buckets], sid="WriteObjects", **in_account(account)),
        allow(KEY_USE_ACTIONS, list(keys), sid="TeamKeys"),
        grants_for_aws_resources(list(keys), sid="TeamKeyGrants"),
        allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
              names.image_repositories_arns(), sid="PullImages"),
        allow(["ecr:GetAuthorizationToken", "logs:DescribeLogGroups", *VPC_ENI_ACTIONS], "*", sid="Unscoped"),
        allow(["cloudwatch:PutMetricData"], "*", sid="Metrics",
              StringLike={"cloudwatch:namespace": ["/aws/sagemaker/*", names.metric_namespace_pattern()]}),
        allow(LOG_WRITE_ACTIONS, names.log_group_arn("/aws/sagemaker/*"), sid="Logs"),
        allow(SAGEMAKER_WORKLOAD_ACTIONS, names.sagemaker_resources_arn(), sid="TeamSageMakerResources"),
        allow(["iam:PassRole"], names.role_arn(EXECUTION_ROLE), sid="PassItselfToSageMaker",
              StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"}),
        *sagemaker_guardrails(subnet_ids, security_group_ids, list(keys)),
    )
