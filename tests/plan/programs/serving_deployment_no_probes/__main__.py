"""A prod serving Deployment that is right in every way but one: no readiness or liveness probe, so it
would take traffic before its model is loaded and a hung server would never be restarted."""

import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("cluster", kubeconfig="{}")
opts = pulumi.ResourceOptions(provider=provider)
labels = {"app": "classifier"}
k8s.apps.v1.Deployment(
    "classifier",
    metadata={"name": "classifier", "namespace": "vision"},
    spec={
        "replicas": 2,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "containers": [{
                    "name": "serve", "image": "vision/serving:2.1.0", "args": ["serve"],
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
                    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
                }],
            },
        },
    },
    opts=opts,
)
k8s.policy.v1.PodDisruptionBudget(
    "classifier-pdb", metadata={"name": "classifier", "namespace": "vision"},
    spec={"maxUnavailable": 1, "selector": {"matchLabels": labels}}, opts=opts)
