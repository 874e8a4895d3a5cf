"""The AWS Load Balancer Controller of one cluster, used only for TargetGroupBinding.

Kubernetes-served models get their regional front door from Pulumi (`infra/components/service_door.py`:
an internal NLB, its target group and listener, an API Gateway VPC link). Pod IPs change with every
rollout and scale event, so something in the cluster must keep the target group's targets equal to the
Service's ready pods: the controller's TargetGroupBinding reconciler does exactly that. Nothing else of
the controller is used: no IngressClass, no Service controller (no load balancer is ever created from a
Service of type LoadBalancer), no Shield/WAF, no backend security group, no Service mutating webhook. Its
pod webhook adds a readiness gate to serving pods in namespaces labelled
`elbv2.k8s.aws/pod-readiness-gate-inject=enabled` (team namespaces): a rolling update then waits until the
new pod is healthy in the target group before it stops an old one.

So its IRSA role holds the controller's documented TargetGroupBinding-only subset, narrowed further:
describe calls (which IAM authorises on no resource) and target (de)registration only on this
environment's target groups (`targetgroup/*-<env>-*`), never a load balancer, listener or security group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra import versions
from infra.components import cluster_iam
from infra.documents import allow, document
from infra.naming import Names
from platform_lib.config.schema.compute import GPU

NAMESPACE = "kube-system"
NAME = "aws-load-balancer-controller"
DESCRIBE = ["ec2:DescribeVpcs", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
            "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"]
TARGETS = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
           "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes"]


def target_group_arns(names: Names, region: str) -> str:
    """This environment's target groups in one region (team stacks name theirs `<team>-<env>-...`)."""
    return f"arn:aws:elasticloadbalancing:{region}:{names.account_id}:targetgroup/{names.environment_glob()}/*"


def controller_document(names: Names, region: str) -> dict[str, Any]:
    return document(allow(DESCRIBE, "*", sid="Describe"),
                    allow(TARGETS, target_group_arns(names, region), sid="EnvironmentTargetGroups"))


def chart_values(cluster_name: str, region: str, vpc_id: str, role_arn: str, system_pool: str) -> dict[str, Any]:
    """Helm values: the TargetGroupBinding reconciler and its webhooks, nothing more, on the system pool."""
    return {
        "clusterName": cluster_name, "region": region, "vpcId": vpc_id,   # no instance metadata lookups
        "replicaCount": 2, "podDisruptionBudget": {"maxUnavailable": 1},
        "serviceAccount": {"create": True, "name": NAME, "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        "nodeSelector": {GPU.pool_label: system_pool},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "createIngressClassResource": False, "enableServiceMutatorWebhook": False,
        "enableShield": False, "enableWaf": False, "enableWafv2": False,
        "enableBackendSecurityGroup": False,
        # The pod webhook adds the NLB readiness gate in team namespaces (label in tenancy.py); if the controller
        # is down, pods are still created (without the gate) instead of every team pod being refused.
        "podMutatorWebhookConfig": {"failurePolicy": "Ignore"},
        "controllerConfig": {"featureGates": {"EnableServiceController": False}},
    }


@dataclass(frozen=True)
class LoadBalancerControllerArgs:
    names: Names
    region: str
    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    system_pool: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str]


class LoadBalancerController(pulumi.ComponentResource):
    """The IRSA role (targets of this environment's target groups only) and the pinned Helm release."""

    def __init__(self, name: str, args: LoadBalancerControllerArgs, provider: aws.Provider,
                 kubernetes: k8s.Provider, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:compute:LoadBalancerController", name, None, opts)
        aws_child = pulumi.ResourceOptions(parent=self, provider=provider)
        role_name = args.names.resource("lb-controller", args.region)
        subject = f"system:serviceaccount:{NAMESPACE}:{NAME}"
        self.role = aws.iam.Role(
            role_name, name=role_name, permissions_boundary=args.permissions_boundary,
            description="AWS Load Balancer Controller: keeps serving target groups equal to the Services' pods",
            assume_role_policy=pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                lambda v: json.dumps(cluster_iam.irsa_trust(v[0], v[1], [subject]))),
            opts=aws_child)
        policy = aws.iam.RolePolicy(f"{role_name}-policy", role=self.role.id, opts=aws_child,
                                    policy=json.dumps(controller_document(args.names, args.region)))
        values = pulumi.Output.all(args.cluster_name, args.vpc_id, self.role.arn).apply(
            lambda v: chart_values(v[0], args.region, v[1], v[2], args.system_pool))
        self.release = k8s.helm.v3.Release(
            name, name=NAME, namespace=NAMESPACE, chart=NAME, version=versions.LOAD_BALANCER_CONTROLLER_CHART,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=versions.EKS_CHARTS_REPOSITORY),
            values=values, atomic=True, cleanup_on_fail=True,
            opts=pulumi.ResourceOptions(parent=self, provider=kubernetes, depends_on=[policy]))
        self.register_outputs({"role": self.role.arn})
