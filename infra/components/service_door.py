"""`ServiceDoor`: what puts a model served on Kubernetes behind its regional front door (`routing.py`).

Per model and serving region, in the platform's private subnets:
- an API Gateway VPC link (V2) with its own security group: the front door's only way in;
- an internal Network Load Balancer whose security group admits only that VPC link, on the listener port;
- a target group of pod IPs (`ip` targets on the serving port, health check HTTP `/ping`, the serving
  container's own readiness answer) and a TCP listener;
- an ingress rule on the cluster's node security group: the load balancer, on the serving port only;
- a TargetGroupBinding in the team namespace: the cluster's AWS Load Balancer Controller
  (`lb_controller.py`) keeps the target group's targets equal to the Service's ready pods.

Pulumi owns every AWS resource; the controller only registers and deregisters targets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.k8s_common import meta
from infra.naming import PURPOSE_TAG, Names, region_code
from platform_lib.k8s_serving import PORT, SERVICE_PORT

LISTENER_PORT = 80
ELB_NAME_LIMIT = 32                  # load balancer and target group names
DEREGISTRATION_DELAY_S = 30          # the serving contract drains for 30 s after SIGTERM
HEALTH_CHECK: aws.lb.TargetGroupHealthCheckArgsDict = {
    "protocol": "HTTP", "path": "/ping", "port": "traffic-port", "matcher": "200",   # the pod's readiness
    "interval": 10, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2}
TARGET_GROUP_BINDING_API = "elbv2.k8s.aws/v1beta1"


def elb_name(names: Names, model: str, region: str) -> str:
    """`<team>-<env>-<model>-<region code>`, at most 32 characters (ELB's limit). When that is too long, the
    model name (then the team name) is cut and a hash of both keeps the name unique; `-<env>-` always stays
    (the load balancer controller may register targets only in target groups named `*-<env>-*`)."""
    name = names.resource(model, region)
    if len(name) <= ELB_NAME_LIMIT:
        return name
    digest = hashlib.sha256(f"{names.scope}/{model}".encode()).hexdigest()[:4]
    tail = f"-{digest}-{region_code(region)}"
    head = f"{names.scope}-{names.environment}-"
    room = ELB_NAME_LIMIT - len(head) - len(tail)
    if room >= 1:
        return f"{head}{model[:room].rstrip('-')}{tail}"
    scope_room = ELB_NAME_LIMIT - len(f"-{names.environment}") - len(tail)
    return f"{names.scope[:scope_room].rstrip('-')}-{names.environment}{tail}"


def target_group_binding(name: str, namespace: str, service: str, target_group_arn: str) -> dict[str, Any]:
    """The TargetGroupBinding object (CRD of the AWS Load Balancer Controller): the Service's pod IPs as
    targets; no `networking` rules, so the controller never edits a security group."""
    return {"apiVersion": TARGET_GROUP_BINDING_API, "kind": "TargetGroupBinding",
            "metadata": meta(name, namespace, {"app.kubernetes.io/name": service}),
            "spec": {"serviceRef": {"name": service, "port": SERVICE_PORT}, "targetGroupARN": target_group_arn,
                     "targetType": "ip", "ipAddressType": "ipv4"}}


@dataclass(frozen=True)
class ServiceDoorArgs:
    names: Names
    region: str
    model: str                                   # the Service's name in the namespace
    namespace: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]          # the platform's private subnets of the region
    node_security_group_id: pulumi.Input[str]    # the cluster security group the pods' nodes run in


class ServiceDoor(pulumi.ComponentResource):
    """Internal NLB, target group, listener, VPC link and their security groups, and the TargetGroupBinding."""

    def __init__(self, name: str, args: ServiceDoorArgs, provider: aws.Provider, kubernetes: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:ServiceDoor", name, None, opts)
        names, model, region = args.names, args.model, args.region
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        def named(purpose: str) -> str:
            return names.resource(f"{model}-{purpose}", region)

        link_group = aws.ec2.SecurityGroup(
            named("link-sg"), vpc_id=args.vpc_id,
            description=f"API Gateway VPC link of {model}: out to its load balancer only", opts=child)
        lb_group = aws.ec2.SecurityGroup(
            named("nlb-sg"), vpc_id=args.vpc_id,
            description=f"Internal NLB of {model}: in from its VPC link only, out to the pods' port",
            tags={PURPOSE_TAG: "load-balancer"}, opts=child)
        # Rules as their own resources (the groups reference each other); no inline rules, so the groups start
        # with none (the provider removes AWS's default allow-all egress) and never fight these.
        rules = [
            (aws.vpc.SecurityGroupEgressRule, "link-out", link_group.id, lb_group.id, LISTENER_PORT),
            (aws.vpc.SecurityGroupIngressRule, "nlb-in", lb_group.id, link_group.id, LISTENER_PORT),
            (aws.vpc.SecurityGroupEgressRule, "nlb-out", lb_group.id, args.node_security_group_id, PORT),
            (aws.vpc.SecurityGroupIngressRule, "pods-in", args.node_security_group_id, lb_group.id, PORT),
        ]
        for kind, purpose, group, peer, port in rules:
            kind(named(purpose), security_group_id=group, referenced_security_group_id=peer,
                 ip_protocol="tcp", from_port=port, to_port=port, description=f"{model} front door", opts=child)
        physical = elb_name(names, model, region)
        self.load_balancer = aws.lb.LoadBalancer(
            named("nlb"), name=physical, load_balancer_type="network", internal=True, subnets=args.subnet_ids,
            security_groups=[lb_group.id], enable_cross_zone_load_balancing=True, ip_address_type="ipv4",
            # New subnets or groups (rare: a platform change) replace the NLB rather than calling SetSubnets and
            # SetSecurityGroups: CI needs no `Set*` on load balancers, and the region's door fails over meanwhile.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                replace_on_changes=["subnets", "securityGroups"], delete_before_replace=True)))
        self.target_group = aws.lb.TargetGroup(
            named("targets"), name=physical, target_type="ip", protocol="TCP", port=PORT, vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_S, preserve_client_ip="false",
            health_check=HEALTH_CHECK, opts=child)
        self.listener = aws.lb.Listener(
            named("listener"), load_balancer_arn=self.load_balancer.arn, port=LISTENER_PORT, protocol="TCP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward",
                                                              target_group_arn=self.target_group.arn)],
            opts=child)
        self.vpc_link = aws.apigatewayv2.VpcLink(
            named("link"), name=named("link"), subnet_ids=args.subnet_ids, security_group_ids=[link_group.id],
            opts=child)
        binding = pulumi.Output.all(args.namespace, self.target_group.arn).apply(
            lambda v: target_group_binding(model, v[0], model, v[1]))
        self.binding = k8s.apiextensions.CustomResource(
            named("binding"), api_version=TARGET_GROUP_BINDING_API, kind="TargetGroupBinding",
            metadata=binding.apply(lambda b: b["metadata"]), spec=binding.apply(lambda b: b["spec"]),
            opts=pulumi.ResourceOptions(parent=self, provider=kubernetes, depends_on=[self.listener]))
        self.register_outputs({"loadBalancer": self.load_balancer.dns_name, "vpcLink": self.vpc_link.id})
