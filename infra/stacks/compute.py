"""The compute plane of a platform stack, per region: cluster, node pools, add-ons, autoscaler, GPU software.

`pulumi up` order (from the dependencies): key and log group → cluster role → cluster → OIDC provider,
access entries, vpc-cni/kube-proxy/pod-identity add-ons → node role → launch templates → node groups →
node-template tags, CoreDNS and EBS CSI add-ons → in-cluster objects (autoscaler, device plugin, DCGM, load
balancer controller).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.components.autoscaling import ClusterAutoscaler, ClusterAutoscalerArgs
from infra.components.cluster import Cluster, ClusterArgs
from infra.components.gpu_software import GpuSoftware
from infra.components.lb_controller import LoadBalancerController, LoadBalancerControllerArgs
from infra.components.node_pools import NodePools, NodePoolsArgs
from infra.naming import names as names_of
from platform_lib.config.schema import PlatformConfig
from platform_lib.config.schema.compute import GPU


def build_clusters(config: PlatformConfig, providers: dict[str, aws.Provider], eks_key_arns: dict[str, pulumi.Output],
                   logs_key_arns: dict[str, pulumi.Output], boundary: pulumi.Input[str], ci_role_arn: pulumi.Input[str],
                   private_subnet_ids: dict[str, list], vpc_cidrs: dict[str, str],
                   vpc_ids: dict[str, pulumi.Input[str]]) -> dict[str, dict]:
    """Build every region's cluster; return the contract's `clusters` outputs by region."""
    names, compute = names_of(config), config.compute
    outputs: dict[str, dict] = {}
    for region in config.regions:
        provider = providers[region]
        cluster = Cluster(
            names.resource("cluster", region),
            ClusterArgs(names, region, compute.kubernetes_version, private_subnet_ids[region],
                        public_access_cidrs=list(compute.public_access_cidrs),
                        secrets_key_arn=eks_key_arns[region], logs_key_arn=logs_key_arns[region],
                        log_retention_days=config.logs.retention_days, permissions_boundary=boundary,
                        ci_role_arn=ci_role_arn, admin_role_arns=list(compute.admin_role_arns)),
            provider,
        )
        pools = NodePools(
            names.resource("node-pools", region),
            NodePoolsArgs(names, region, compute.kubernetes_version, compute.node_pools,
                          cluster_name=cluster.cluster.name, private_subnet_ids=private_subnet_ids[region],
                          volume_key_arn=eks_key_arns[region], permissions_boundary=boundary),
            provider, opts=pulumi.ResourceOptions(depends_on=cluster.addons_before_nodes),
        )
        nodes = list(pools.groups.values())
        cluster.addons_after_nodes(nodes, provider)
        in_cluster = pulumi.ResourceOptions(depends_on=[*nodes, *cluster.admin_access])
        ClusterAutoscaler(
            names.resource("autoscaler", region),
            ClusterAutoscalerArgs(names, region, compute.kubernetes_version, cluster.cluster_name,
                                  system_pool=compute.system_pool.name, oidc_provider_arn=cluster.oidc_provider.arn,
                                  oidc_issuer=cluster.oidc_issuer, permissions_boundary=boundary),
            provider, cluster.kubernetes, opts=in_cluster,
        )
        GpuSoftware(names.resource("gpu", region), compute.gpu_pools, cluster.kubernetes, opts=in_cluster)
        LoadBalancerController(
            names.resource("lb-controller", region),
            LoadBalancerControllerArgs(names, region, cluster.cluster_name, vpc_ids[region], compute.system_pool.name,
                                       cluster.oidc_provider.arn, cluster.oidc_issuer, boundary),
            provider, cluster.kubernetes, opts=in_cluster,
        )
        outputs[region] = {
            "name": cluster.cluster.name,
            "endpoint": cluster.endpoint,
            "certificateAuthority": cluster.certificate_authority,
            "oidcProviderArn": cluster.oidc_provider.arn,
            "oidcIssuer": cluster.oidc_issuer,
            "kubernetesVersion": compute.kubernetes_version,
            "vpcCidr": vpc_cidrs[region],
            "nodeRoleArn": pools.node_role.arn,
            # managed node groups without their own security group run in the cluster security group
            "nodeSecurityGroupId": cluster.cluster.vpc_config.cluster_security_group_id,
            "gpuPools": [{"name": p.name, "accelerator": p.gpu_accelerator, "gpusPerNode": p.advertised_gpus,
                          "labelKey": GPU.pool_label, "toleration": GPU.toleration} for p in compute.gpu_pools],
        }
    return outputs
