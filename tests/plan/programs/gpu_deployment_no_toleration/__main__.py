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
                "containers": [{
                    "name": "model", "image": "fraud/scorer:1.0",
                    "readinessProbe": {"httpGet": {"path": "/ping", "port": 8080}},
                    "livenessProbe": {"httpGet": {"path": "/ping", "port": 8080}},
                    "securityContext": {"readOnlyRootFilesystem": True},
                    "resources": {"requests": {"cpu": "1", "memory": "4Gi"},
                                  "limits": {"memory": "4Gi", "nvidia.com/gpu": "1"}},
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
