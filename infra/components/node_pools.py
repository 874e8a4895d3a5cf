"""Managed node groups, one per configured pool, with hardened launch templates and scale-from-zero tags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import versions
from infra.components import cluster_iam
from infra.naming import Names
from platform_lib.config.schema.compute import GPU, NodePool

CA_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
EKS_CAPACITY = {"on-demand": "ON_DEMAND", "spot": "SPOT"}


@dataclass(frozen=True)
class NodePoolsArgs:
    """What node pools need from the cluster and the platform (one region)."""

    names: Names
    region: str
    kubernetes_version: str
    pools: Sequence[NodePool]
    cluster_name: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Input[str]]
    volume_key_arn: pulumi.Input[str]
    permissions_boundary: pulumi.Input[str]


def autoscaler_tags(pool: NodePool) -> dict[str, str]:
    """Cluster Autoscaler's node-template tags: what a node of the pool would look like, so a pool at
    zero nodes can be scaled up for a pending pod (labels, taints, GPUs)."""
    tags = {f"{CA_TEMPLATE}/label/{key}": value for key, value in pool.node_labels().items()}
    for taint in pool.taints:
        tags[f"{CA_TEMPLATE}/taint/{taint.key}"] = f"{taint.value}:{taint.effect}"
    if pool.gpu:
        key, value = GPU.asg_taint_tag
        tags[key] = value
        tags[f"{CA_TEMPLATE}/resources/{GPU.resource}"] = str(pool.advertised_gpus)
    return tags


def _asg_name(resources: Sequence[aws.eks.outputs.NodeGroupResource]) -> str:
    """The Auto Scaling group EKS created for a node group."""
    groups = resources[0].autoscaling_groups or []
    return str(groups[0].name)


class NodePools(pulumi.ComponentResource):
    """Each pool: a launch template (IMDSv2 only, hop limit 1 except on the system pool, KMS-encrypted gp3
    root, no SSH key), a managed node group at the pinned AMI type and release, labels, the GPU taint on
    GPU pools, and node-template tags on its Auto Scaling group for scale from zero."""

    def __init__(self, name: str, args: NodePoolsArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:compute:NodePools", name, None, opts)
        names, region = args.names, args.region
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        role_name = names.resource("eks-node", region)
        self.node_role = aws.iam.Role(
            role_name, name=role_name, assume_role_policy=json.dumps(cluster_iam.service_trust("ec2.amazonaws.com")),
            permissions_boundary=args.permissions_boundary, opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{role_name}-{arn.rsplit('/', 1)[-1]}", role=self.node_role.name,
                                         policy_arn=arn, opts=child)
            for arn in cluster_iam.NODE_POLICIES
        ]
        release = versions.ami_release(args.kubernetes_version)
        self.groups: dict[str, aws.eks.NodeGroup] = {}
        for pool in args.pools:
            pool_name = names.resource(f"{pool.name}-nodes", region)
            template = aws.ec2.LaunchTemplate(
                f"{pool_name}-lt", name=pool_name, update_default_version=True,
                metadata_options={"http_endpoint": "enabled", "http_tokens": "required",
                                  "http_put_response_hop_limit": 2 if pool.system else 1,
                                  "instance_metadata_tags": "disabled"},
                block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
                    "volume_size": pool.disk_size_gib, "volume_type": "gp3", "encrypted": "true",
                    "kms_key_id": args.volume_key_arn, "delete_on_termination": "true"}}],
                tag_specifications=[{"resource_type": kind, "tags": {"Name": pool_name}}
                                    for kind in ("instance", "volume")],
                opts=child,
            )
            group = aws.eks.NodeGroup(
                pool_name, cluster_name=args.cluster_name, node_group_name=pool_name,
                node_role_arn=self.node_role.arn, subnet_ids=args.private_subnet_ids,
                instance_types=pool.instance_types, capacity_type=EKS_CAPACITY[pool.capacity],
                ami_type=pool.resolved_ami_type(), release_version=pool.ami_release or release,
                version=args.kubernetes_version,
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=pool.min_size, max_size=pool.max_size, desired_size=pool.min_size),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels=pool.node_labels(),
                taints=[aws.eks.NodeGroupTaintArgs(**taint) for taint in pool.taint_list()],
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                    id=template.id, version=template.latest_version.apply(str)),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    depends_on=attachments,
                    ignore_changes=["scalingConfig.desiredSize"],  # the cluster autoscaler owns it
                )),
            )
            asg_name = group.resources.apply(_asg_name)
            for index, (key, value) in enumerate(sorted(autoscaler_tags(pool).items())):
                aws.autoscaling.Tag(
                    f"{pool_name}-ca-{index}", autoscaling_group_name=asg_name,
                    tag={"key": key, "value": value, "propagate_at_launch": False}, opts=child,
                )
            self.groups[pool.name] = group
        self.register_outputs({"node_role_arn": self.node_role.arn,
                               **{f"{n}_arn": g.arn for n, g in self.groups.items()}})
