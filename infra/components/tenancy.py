"""A team's slice of the platform's clusters: per region a namespace with quota, limits, network policies
and an IRSA service account; one workload role for that service account in every region."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components import cluster_iam
from infra.components.cluster import EDIT_POLICY, grant, kubernetes_provider
from infra.components.k8s_common import meta
from infra.documents import KEY_USE_ACTIONS, allow, document, in_account
from infra.naming import Names
from platform_lib.config.schema.compute import GPU
from platform_lib.contract import ClusterOutputs

HTTPS = [{"protocol": "TCP", "port": 443}]
DNS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


@dataclass(frozen=True)
class TenancyArgs:
    """What tenancy needs: the platform's clusters (per region, from the contract), the team's data."""

    names: Names
    namespace: str                          # the team
    primary_region: str
    quota: dict[str, str]                   # cpu, memory, gpus (Kubernetes quantities)
    access_role_arns: list[str]
    clusters: dict[str, pulumi.Output[ClusterOutputs]]
    bucket_arns: Sequence[pulumi.Input[str]]
    key_arns: Sequence[pulumi.Input[str]]
    permissions_boundary: pulumi.Input[str]


def quota_spec(quota: dict[str, str]) -> dict:
    return {"hard": {"requests.cpu": quota["cpu"], "requests.memory": quota["memory"],
                     "limits.memory": quota["memory"], f"requests.{GPU.resource}": quota["gpus"]}}


LIMIT_RANGE = {"limits": [{
    "type": "Container",
    "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
    "default": {"cpu": "1", "memory": "1Gi"},
}]}


def network_policies(namespace: str, vpc_cidr: str, s3_cidrs: list[str]) -> dict[str, dict]:
    """Default deny, then DNS, the namespace itself, and HTTPS to the VPC's endpoints (interface
    endpoints in the VPC CIDR, the S3 gateway endpoint's prefix list)."""
    every_pod: dict = {}
    return {
        "default-deny": {"podSelector": every_pod, "policyTypes": ["Ingress", "Egress"]},
        "allow-dns": {"podSelector": every_pod, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": DNS}]},
        "allow-same-namespace": {"podSelector": every_pod, "policyTypes": ["Ingress", "Egress"],
                                 "ingress": [{"from": [{"podSelector": every_pod}]}],
                                 "egress": [{"to": [{"podSelector": every_pod}]}]},
        "allow-aws-endpoints": {"podSelector": every_pod, "policyTypes": ["Egress"], "egress": [{
            "to": [{"ipBlock": {"cidr": cidr}} for cidr in [vpc_cidr, *s3_cidrs]], "ports": HTTPS}]},
    }


class Tenancy(pulumi.ComponentResource):
    """Namespace `<team>` in every region's cluster, with ResourceQuota (cpu, memory, GPUs from the team
    config), LimitRange, network policies, the `<team>-workload` service account bound through IRSA to
    the team workload role (the team's buckets and keys only, under the platform boundary), and edit
    access for the team's people in their namespace only."""

    def __init__(self, name: str, args: TenancyArgs, providers: dict[str, aws.Provider],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:compute:Tenancy", name, None, opts)
        self.namespace = args.namespace
        self.service_account = f"{args.namespace}-workload"
        primary = providers[args.primary_region]
        self.kubernetes: dict[str, k8s.Provider] = {}           # region -> provider of its cluster
        self.ready: dict[str, list[pulumi.Resource]] = {}       # region -> namespace, service account
        subject = f"system:serviceaccount:{self.namespace}:{self.service_account}"
        role_name = args.names.resource("k8s-workload")
        trust = pulumi.Output.all(*(c.apply(lambda c: (c.oidc_provider_arn, c.oidc_issuer))
                                    for c in args.clusters.values()))
        self.workload_role = aws.iam.Role(
            role_name, name=role_name, permissions_boundary=args.permissions_boundary,
            assume_role_policy=trust.apply(lambda pairs: json.dumps(cluster_iam.multi_irsa_trust(list(pairs),
                                                                                                [subject]))),
            opts=pulumi.ResourceOptions(parent=self, provider=primary),
        )
        aws.iam.RolePolicy(
            f"{role_name}-policy", role=self.workload_role.id,
            policy=pulumi.Output.all(buckets=args.bucket_arns, keys=args.key_arns).apply(lambda v: json.dumps(document(
                allow(["s3:ListBucket", "s3:GetBucketLocation"], v["buckets"], sid="TeamBuckets",
                      **in_account(args.names.account_id)),
                allow(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                       "s3:AbortMultipartUpload"], [f"{arn}/*" for arn in v["buckets"]], sid="TeamObjects",
                      **in_account(args.names.account_id)),
                allow(KEY_USE_ACTIONS, v["keys"], sid="TeamKeys"),
            ))),
            opts=pulumi.ResourceOptions(parent=self, provider=primary),
        )
        for region, cluster in args.clusters.items():
            self._region(args, region, cluster, providers[region])
        self.register_outputs({"namespace": self.namespace, "workload_role_arn": self.workload_role.arn})

    def _region(self, args: TenancyArgs, region: str, cluster: pulumi.Output[ClusterOutputs],
                provider: aws.Provider) -> None:
        prefix = args.names.resource("tenancy", region)
        kubernetes = kubernetes_provider(
            f"k8s-{prefix}", cluster.apply(lambda c: c.name), cluster.apply(lambda c: c.endpoint),
            cluster.apply(lambda c: c.certificate_authority), region, opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=kubernetes)
        self.kubernetes[region] = kubernetes
        ns = self.namespace
        labels = {"ml-platform/team": ns,
                  "pod-security.kubernetes.io/enforce": "restricted",
                  "pod-security.kubernetes.io/enforce-version": "latest",
                  # serving pods behind a front door wait for their NLB target to be healthy (lb_controller.py)
                  "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
        namespace = k8s.core.v1.Namespace(f"{prefix}-namespace", metadata=meta(ns, labels=labels), opts=child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
        k8s.core.v1.ResourceQuota(f"{prefix}-quota", metadata=meta(f"{ns}-quota", ns), spec=quota_spec(args.quota),
                                  opts=in_ns)
        k8s.core.v1.LimitRange(f"{prefix}-limits", metadata=meta(f"{ns}-limits", ns), spec=LIMIT_RANGE, opts=in_ns)
        s3 = aws.ec2.get_prefix_list_output(name=f"com.amazonaws.{region}.s3",
                                            opts=pulumi.InvokeOutputOptions(provider=provider, parent=self))
        specs: pulumi.Output[dict] = pulumi.Output.all(cluster.apply(lambda c: c.vpc_cidr), s3.cidr_blocks).apply(
            lambda v: network_policies(ns, v[0], sorted(v[1])))
        for policy in ("default-deny", "allow-dns", "allow-same-namespace", "allow-aws-endpoints"):
            k8s.networking.v1.NetworkPolicy(f"{prefix}-{policy}", metadata=meta(policy, ns),
                                            spec=specs.apply(itemgetter(policy)), opts=in_ns)
        account = k8s.core.v1.ServiceAccount(
            f"{prefix}-service-account",
            metadata=meta(self.service_account, ns, annotations={"eks.amazonaws.com/role-arn": self.workload_role.arn}),
            automount_service_account_token=True, opts=in_ns)
        self.ready[region] = [namespace, account]
        aws_child = pulumi.ResourceOptions(parent=self, provider=provider)
        for index, arn in enumerate(args.access_role_arns):
            grant(f"{prefix}-access-{index}", cluster.apply(lambda c: c.name), arn, EDIT_POLICY, ns, aws_child)
