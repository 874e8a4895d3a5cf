"""A prod serving workload rendered by the platform's one renderer (platform_lib.k8s_serving), as the
team stack's KubernetesServing and `mlp deploy --target kubernetes` render it: the pack accepts it."""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s_serving import ServingWorkload, serving_objects

TYPES = {"Deployment": k8s.apps.v1.Deployment, "Service": k8s.core.v1.Service,
         "HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
         "NetworkPolicy": k8s.networking.v1.NetworkPolicy, "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget}

provider = k8s.Provider("cluster", kubeconfig="{}")
workload = ServingWorkload(
    name="classifier", namespace="vision", image="222222222222.dkr.ecr.eu-west-1.amazonaws.com/vision/serving:2.1.0",
    model_uri="s3://vision-prod-models/classifier/1/model.tar.gz", service_account="vision-workload",
    cpu="1", memory="2Gi", min_replicas=2, max_replicas=4, disruption_budget=True, spread_strictly=True,
    allow_from_cidrs=("10.20.0.0/16",))
for obj in serving_objects(workload):
    TYPES[obj["kind"]](f"classifier-{obj['kind'].lower()}", metadata=obj["metadata"], spec=obj["spec"],
                       opts=pulumi.ResourceOptions(provider=provider))
