"""A team's GPU Deployment that forgot the GPU toleration: it would stay Pending forever."""

import pulumi
import pulumi_kubernetes as k8s

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
                "containers": [{"name": "model", "image": "fraud/scorer:1.0",
                                "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
            },
        },
    },
    opts=pulumi.ResourceOptions(provider=provider),
)
