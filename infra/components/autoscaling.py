"""Cluster Autoscaler: scales every managed node group (GPU pools from zero) under IRSA.

Why Cluster Autoscaler and not Karpenter: the pools are EKS managed node groups with pinned AMI
releases (the issue's first promise), and Cluster Autoscaler scales exactly those groups; its objects
are core Kubernetes kinds that kubernetes-validate checks and policies see, where Karpenter needs its
own CRDs (NodePool, EC2NodeClass) and launches instances outside the node groups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra import versions
from infra.components import cluster_iam
from infra.components.k8s_common import NON_ROOT, RESTRICTED_CONTAINER, meta
from infra.naming import Names
from platform_lib.config.schema.compute import GPU

NAMESPACE = "kube-system"
NAME = "cluster-autoscaler"
_READ = ["get", "list", "watch"]
CLUSTER_RULES = [
    {"apiGroups": [""], "resources": ["events", "endpoints"], "verbs": ["create", "patch"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]},
    {"apiGroups": [""], "resources": ["endpoints"], "resourceNames": [NAME], "verbs": ["get", "update"]},
    {"apiGroups": [""], "resources": ["nodes"], "verbs": [*_READ, "update"]},
    {"apiGroups": [""], "resources": ["namespaces", "pods", "services", "replicationcontrollers",
                                      "persistentvolumeclaims", "persistentvolumes"], "verbs": _READ},
    {"apiGroups": ["apps"], "resources": ["daemonsets", "replicasets", "statefulsets"], "verbs": _READ},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _READ},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _READ},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses", "csinodes", "csidrivers",
                                                    "csistoragecapacities", "volumeattachments"], "verbs": _READ},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [NAME],
     "verbs": ["get", "update"]},
]
NAMESPACE_RULES = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "watch"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["delete", "get", "update", "watch"],
     "resourceNames": ["cluster-autoscaler-status"]},
]


def autoscaler_command(cluster_name: str) -> list[str]:
    return [
        "./cluster-autoscaler", "--cloud-provider=aws", "--v=2",
        f"--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/{cluster_name}",
        "--balance-similar-node-groups", "--expander=least-waste", "--skip-nodes-with-system-pods=false",
        "--skip-nodes-with-local-storage=false", "--scale-down-unneeded-time=10m",
        "--scale-down-delay-after-add=5m",
    ]


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    names: Names
    region: str
    kubernetes_version: str
    cluster_name: str
    system_pool: str                        # the pool the autoscaler runs on
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str]


class ClusterAutoscaler(pulumi.ComponentResource):
    """The IRSA role (resize only this cluster's groups), RBAC, and the pinned Deployment on the system pool."""

    def __init__(self, name: str, args: ClusterAutoscalerArgs, provider: aws.Provider, kubernetes: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:compute:ClusterAutoscaler", name, None, opts)
        cluster_name = args.cluster_name
        aws_child = pulumi.ResourceOptions(parent=self, provider=provider)
        child = pulumi.ResourceOptions(parent=self, provider=kubernetes)
        role_name = args.names.resource("cluster-autoscaler", args.region)
        subject = f"system:serviceaccount:{NAMESPACE}:{NAME}"
        self.role = aws.iam.Role(
            role_name, name=role_name, permissions_boundary=args.permissions_boundary,
            assume_role_policy=pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                lambda v: json.dumps(cluster_iam.irsa_trust(v[0], v[1], [subject]))),
            opts=aws_child,
        )
        aws.iam.RolePolicy(f"{role_name}-policy", role=self.role.id, opts=aws_child, policy=json.dumps(
            cluster_iam.cluster_autoscaler_document(args.names.account_id, cluster_name)))

        labels = {"app.kubernetes.io/name": NAME}
        account = k8s.core.v1.ServiceAccount(
            f"{cluster_name}-{NAME}", metadata=meta(NAME, NAMESPACE, labels,
                                                    {"eks.amazonaws.com/role-arn": self.role.arn}),
            automount_service_account_token=True, opts=child)
        cluster_role = k8s.rbac.v1.ClusterRole(f"{cluster_name}-{NAME}-cr", metadata=meta(NAME, labels=labels),
                                               rules=CLUSTER_RULES, opts=child)
        k8s.rbac.v1.ClusterRoleBinding(
            f"{cluster_name}-{NAME}-crb", metadata=meta(NAME, labels=labels),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
            subjects=[{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[cluster_role])))
        role = k8s.rbac.v1.Role(f"{cluster_name}-{NAME}-role", metadata=meta(NAME, NAMESPACE, labels),
                                rules=NAMESPACE_RULES, opts=child)
        k8s.rbac.v1.RoleBinding(
            f"{cluster_name}-{NAME}-rb", metadata=meta(NAME, NAMESPACE, labels),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
            subjects=[{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role])))
        system = args.system_pool
        self.deployment = k8s.apps.v1.Deployment(
            f"{cluster_name}-{NAME}", metadata=meta(NAME, NAMESPACE, labels),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels, "annotations": {
                        "cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}},
                    "spec": {
                        "serviceAccountName": NAME,
                        "priorityClassName": "system-cluster-critical",
                        "nodeSelector": {GPU.pool_label: system},
                        "securityContext": {**NON_ROOT, "runAsUser": 65534, "runAsGroup": 65534,
                                            "fsGroup": 65534},
                        "containers": [{
                            "name": NAME,
                            "image": versions.cluster_autoscaler_image(args.kubernetes_version),
                            "command": autoscaler_command(cluster_name),
                            "env": [{"name": "AWS_REGION", "value": args.region}],
                            "resources": {"requests": {"cpu": "100m", "memory": "600Mi"},
                                          "limits": {"memory": "600Mi"}},
                            "securityContext": RESTRICTED_CONTAINER,
                        }],
                    },
                },
            },
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[account])),
        )
        self.register_outputs({"role_arn": self.role.arn})
