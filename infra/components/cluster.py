"""An EKS cluster per platform region, from raw pulumi-aws resources, and the Kubernetes provider for it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra import versions
from infra.components import cluster_iam
from infra.naming import Names

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""Every control-plane log type EKS offers."""

ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
EDIT_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
"""Add-ons nodes need to become Ready; CoreDNS and the EBS CSI driver need Ready nodes."""
EBS_CSI_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:ebs-csi-controller-sa"
CLOUDWATCH_AGENT_SERVICE_ACCOUNT = "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent"
CONTAINER_INSIGHTS_LOGS = ("performance", "application", "dataplane", "host")
"""Log groups `/aws/containerinsights/<cluster>/<kind>` the CloudWatch agent writes (the stack creates
them, encrypted: workload roles may not create log groups). Node metrics such as
`cluster_failed_node_count` are extracted from `performance`."""
CLOUDWATCH_AGENT_CONFIG = json.dumps({"agent": {"config": {"logs": {"metrics_collected": {"kubernetes": {
    "enhanced_container_insights": True, "accelerated_compute_metrics": False}}}}}})
"""Container Insights without the add-on's own DCGM exporter: the platform's DCGM exporter
(`gpu_software.py`) owns the GPUs' profiling counters, which one process at a time may read."""


@dataclass(frozen=True)
class ClusterArgs:
    """What a cluster needs from the rest of the platform (one region)."""

    names: Names
    region: str
    kubernetes_version: str
    private_subnet_ids: list[pulumi.Input[str]]
    public_access_cidrs: list[str]          # empty: private endpoint only
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    permissions_boundary: pulumi.Input[str]
    ci_role_arn: pulumi.Input[str]
    admin_role_arns: list[str]


def kubeconfig(name: pulumi.Input[str], endpoint: pulumi.Input[str], certificate_authority: pulumi.Input[str],
               region: str) -> pulumi.Output[str]:
    """A kubeconfig whose user gets a token from `aws eks get-token` (no static credentials)."""
    return pulumi.Output.all(name, endpoint, certificate_authority).apply(lambda v: json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "eks", "preferences": {},
        "clusters": [{"name": "eks", "cluster": {"server": v[1], "certificate-authority-data": v[2]}}],
        "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "eks"}}],
        "users": [{"name": "eks", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", v[0], "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }}}],
    }))


def kubernetes_provider(name: str, cluster_name: pulumi.Input[str], endpoint: pulumi.Input[str],
                        certificate_authority: pulumi.Input[str], region: str,
                        opts: pulumi.ResourceOptions | None = None) -> k8s.Provider:
    """The provider every in-cluster object of a region uses (platform and team stacks alike)."""
    return k8s.Provider(
        name, kubeconfig=kubeconfig(cluster_name, endpoint, certificate_authority, region),
        enable_server_side_apply=True, delete_unreachable=False, opts=opts,
    )


class Cluster(pulumi.ComponentResource):
    """Private subnets, a private API endpoint (public only in dev, only from configured CIDRs), secrets
    under the `eks` key, every control-plane log type to a KMS-encrypted group, API access entries
    (platform admins and CI), an OIDC provider for IRSA, and pinned managed add-ons."""

    def __init__(self, name: str, args: ClusterArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:compute:Cluster", name, None, opts)
        names, region = args.names, args.region
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.cluster_name = names.resource("eks", region)
        self.region = region

        role_name = names.resource("eks-cluster", region)
        role = aws.iam.Role(
            role_name, name=role_name, assume_role_policy=json.dumps(cluster_iam.service_trust("eks.amazonaws.com")),
            permissions_boundary=args.permissions_boundary, opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{role_name}-{arn.rsplit('/', 1)[-1]}", role=role.name, policy_arn=arn,
                                         opts=child)
            for arn in cluster_iam.CLUSTER_POLICIES
        ]
        log_group = aws.cloudwatch.LogGroup(
            names.resource("eks-logs", region), name=f"/aws/eks/{self.cluster_name}/cluster",
            kms_key_id=args.logs_key_arn, retention_in_days=args.log_retention_days, opts=child,
        )
        public = bool(args.public_access_cidrs)
        self.cluster = aws.eks.Cluster(
            self.cluster_name, name=self.cluster_name, role_arn=role.arn, version=args.kubernetes_version,
            vpc_config={
                "subnet_ids": args.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": public,
                "public_access_cidrs": list(args.public_access_cidrs) if public else None,
            },
            encryption_config={"provider": {"key_arn": args.secrets_key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(LOG_TYPES),
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False},
            upgrade_policy={"support_type": "STANDARD"},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[log_group, *attachments])),  # else EKS creates the group, unencrypted
        )
        self.endpoint = self.cluster.endpoint
        self.certificate_authority: pulumi.Output[str] = self.cluster.certificate_authority.apply(
            lambda ca: cast(str, ca.data))
        self.oidc_issuer: pulumi.Output[str] = self.cluster.identities.apply(
            lambda ids: cast(str, cast(list, ids)[0].oidcs[0].issuer))  # EKS always has one issuer

        admins = {"ci": args.ci_role_arn, **{f"admin-{i}": arn for i, arn in enumerate(args.admin_role_arns)}}
        # In-cluster objects wait for these: the deploying role has no API access before them.
        self.admin_access = [self.grant(f"{self.cluster_name}-{label}", arn, ADMIN_POLICY, None, child)
                             for label, arn in admins.items()]

        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            names.resource("eks-oidc", region), url=self.oidc_issuer, client_id_lists=["sts.amazonaws.com"],
            opts=child,
        )
        self.csi_role = self._irsa_role(names.resource("ebs-csi", region), EBS_CSI_SERVICE_ACCOUNT,
                                        cluster_iam.EBS_CSI_POLICY, args.permissions_boundary, child)
        self.cloudwatch_role = self._irsa_role(names.resource("cloudwatch-agent", region),
                                               CLOUDWATCH_AGENT_SERVICE_ACCOUNT, cluster_iam.CLOUDWATCH_AGENT_POLICY,
                                               args.permissions_boundary, child)
        self.insights_logs = [
            aws.cloudwatch.LogGroup(
                names.resource(f"insights-{kind}", region), name=f"/aws/containerinsights/{self.cluster_name}/{kind}",
                kms_key_id=args.logs_key_arn, retention_in_days=args.log_retention_days, opts=child)
            for kind in CONTAINER_INSIGHTS_LOGS
        ]
        self.addon_versions = versions.addon_versions(args.kubernetes_version)
        self.addons_before_nodes = [self._addon(name, child) for name in ADDONS_BEFORE_NODES]

        self.kubernetes = kubernetes_provider(
            f"k8s-{self.cluster_name}", self.cluster.name, self.endpoint, self.certificate_authority, region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.cluster.name, "endpoint": self.endpoint,
                               "oidc_provider_arn": self.oidc_provider.arn})

    def _addon(self, name: str, child: pulumi.ResourceOptions, depends_on: Sequence[pulumi.Resource] = (),
               **extra) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{self.cluster_name}-{name}", cluster_name=self.cluster.name, addon_name=name,
            addon_version=self.addon_versions[name], resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE", **extra,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )

    def addons_after_nodes(self, nodes: Sequence[pulumi.Resource], provider: aws.Provider) -> list[aws.eks.Addon]:
        """CoreDNS, the EBS CSI driver and the CloudWatch agent (Container Insights, the failed-node alarm's
        metrics), the last two under IRSA: they need nodes to schedule on."""
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        return [
            self._addon("coredns", child, nodes),
            self._addon("aws-ebs-csi-driver", child, nodes, service_account_role_arn=self.csi_role.arn),
            self._addon("amazon-cloudwatch-observability", child, [*nodes, *self.insights_logs],
                        service_account_role_arn=self.cloudwatch_role.arn,
                        configuration_values=CLOUDWATCH_AGENT_CONFIG),
        ]

    def _irsa_role(self, name: str, service_account: str, policy_arn: str, boundary: pulumi.Input[str],
                   child: pulumi.ResourceOptions) -> aws.iam.Role:
        """A role one service account of this cluster assumes (IRSA), with one AWS managed policy."""
        role = aws.iam.Role(
            name, name=name, permissions_boundary=boundary,
            assume_role_policy=pulumi.Output.all(self.oidc_provider.arn, self.oidc_issuer).apply(
                lambda v: json.dumps(cluster_iam.irsa_trust(v[0], v[1], [service_account]))),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-policy", role=role.name, policy_arn=policy_arn, opts=child)
        return role

    def grant(self, name: str, principal_arn: pulumi.Input[str], policy_arn: str, namespace: str | None,
              child: pulumi.ResourceOptions) -> aws.eks.AccessPolicyAssociation:
        """An access entry for an IAM role and one access policy, cluster-wide or in one namespace."""
        return grant(name, self.cluster.name, principal_arn, policy_arn, namespace, child)


def grant(name: str, cluster_name: pulumi.Input[str], principal_arn: pulumi.Input[str], policy_arn: str,
          namespace: str | None, opts: pulumi.ResourceOptions) -> aws.eks.AccessPolicyAssociation:
    """An EKS access entry and its policy association (used by team stacks for their namespace)."""
    entry = aws.eks.AccessEntry(name, cluster_name=cluster_name, principal_arn=principal_arn, type="STANDARD",
                                opts=opts)
    scope = aws.eks.AccessPolicyAssociationAccessScopeArgs(type="namespace" if namespace else "cluster",
                                                           namespaces=[namespace] if namespace else None)
    return aws.eks.AccessPolicyAssociation(
        f"{name}-policy", cluster_name=cluster_name, principal_arn=entry.principal_arn, policy_arn=policy_arn,
        access_scope=scope, opts=opts,
    )
