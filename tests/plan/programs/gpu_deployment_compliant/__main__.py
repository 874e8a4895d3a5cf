"""The same GPU Deployment built from the platform's GPU object, next to a GPU pool it can run on."""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from platform_lib.config.schema.compute import GPU

aws_provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {
    "team": "shadow", "env": "prod", "cost-center": "shadow"}})
aws.eks.NodeGroup(
    "gpu", cluster_name="platform-prod-eks-euw1", node_group_name="gpu", node_role_arn="arn:aws:iam::1:role/n",
    subnet_ids=["subnet-1"], instance_types=["g5.xlarge"], ami_type="AL2023_x86_64_NVIDIA", version="1.32",
    scaling_config={"min_size": 0, "max_size": 2, "desired_size": 0},
    labels={GPU.pool_label: "gpu"}, taints=[GPU.eks_taint],
    opts=pulumi.ResourceOptions(provider=aws_provider),
)
provider = k8s.Provider("cluster", kubeconfig="{}")
k8s.apps.v1.Deployment(
    "scorer",
    metadata={"name": "scorer", "namespace": "fraud"},
    spec={
        "selector": {"matchLabels": {"app": "scorer"}},
        "template": {
            "metadata": {"labels": {"app": "scorer"}},
            "spec": {
                "securityContext": {"runAsNonRoot": True},
                "tolerations": [GPU.toleration],
                "nodeSelector": {GPU.pool_label: "gpu"},
                "containers": [{
                    "name": "model", "image": "fraud/scorer:1.0",
                    "readinessProbe": {"httpGet": {"path": "/ping", "port": 8080}},
                    "livenessProbe": {"httpGet": {"path": "/ping", "port": 8080}},
                    "securityContext": {"readOnlyRootFilesystem": True},
                    "resources": {"requests": {"cpu": "1", "memory": "4Gi"},
                                  "limits": {"memory": "4Gi", GPU.resource: "1"}},
                }],
            },
        },
    },
    opts=pulumi.ResourceOptions(provider=provider),
)
# The serving rules of issue 12 hold too (probes, requests/limits, read-only root, a PDB in prod).
k8s.policy.v1.PodDisruptionBudget(
    "scorer-pdb", metadata={"name": "scorer", "namespace": "fraud"},
    spec={"maxUnavailable": 1, "selector": {"matchLabels": {"app": "scorer"}}},
    opts=pulumi.ResourceOptions(provider=provider))
