"""A model served on Kubernetes in the team's namespace of one region's cluster: the objects of
`platform_lib.k8s_serving` (the renderer `mlp deploy --target kubernetes` uses too) as pulumi-kubernetes
resources, so policies and kubernetes-validate see every field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from operator import itemgetter

import pulumi
import pulumi_kubernetes as k8s

from infra.components.k8s_common import MANAGED_BY
from infra.naming import Names
from platform_lib.config.schema.serving import ServedModel
from platform_lib.contract import GpuPool
from platform_lib.k8s_serving import GpuPlacement, ServingWorkload, serving_objects

KINDS = {
    "Deployment": ("deployment", k8s.apps.v1.Deployment),
    "Service": ("service", k8s.core.v1.Service),
    "HorizontalPodAutoscaler": ("hpa", k8s.autoscaling.v2.HorizontalPodAutoscaler),
    "NetworkPolicy": ("ingress", k8s.networking.v1.NetworkPolicy),
    "PodDisruptionBudget": ("pdb", k8s.policy.v1.PodDisruptionBudget),
}

# `pulumi up` waits for the rollout; a GPU pool scaling from zero, the image pull and the model download
# take longer than the provider's 10-minute default.
WAIT = pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="30m", update="30m"))


@dataclass(frozen=True)
class KubernetesServingArgs:
    names: Names
    region: str
    model: ServedModel                          # resolved (section defaults applied)
    namespace: str
    service_account: str
    image: str                                  # full image URI (the region's ECR)
    models_bucket: pulumi.Input[str]            # the team's models bucket of the region
    gpu_pool: pulumi.Input[GpuPool | None]      # from the platform contract; None for CPU models
    vpc_cidr: pulumi.Input[str]                 # callers allowed in on the serving port (NetworkPolicy)
    prod: bool                                  # PodDisruptionBudget, strict zone spread


def workload(args: KubernetesServingArgs, bucket: str, pool: GpuPool | None, vpc_cidr: str) -> ServingWorkload:
    model, resources = args.model, args.model.resources
    assert resources is not None, "a Kubernetes model states resources (schema)"
    return ServingWorkload(
        name=model.name, namespace=args.namespace, image=args.image,
        model_uri=f"s3://{bucket}/{model.model_data}", service_account=args.service_account,
        cpu=resources.cpu, memory=resources.memory, cpu_limit=resources.cpu_limit, gpus=resources.gpus,
        gpu=GpuPlacement(dict(pool.toleration), pool.label_key, pool.name) if pool else None,
        min_replicas=model.minimum, max_replicas=model.max_capacity, cpu_target_percent=model.scaling_target,
        disruption_budget=args.prod, spread_strictly=args.prod, allow_from_cidrs=(vpc_cidr,),
        labels={**MANAGED_BY, "app.kubernetes.io/name": model.name, "ml-platform/team": args.namespace,
                "ml-platform/env": args.names.environment},
    )


def _of_kind(kind: str, objects: list[dict]) -> dict:
    return next(o for o in objects if o["kind"] == kind)


class KubernetesServing(pulumi.ComponentResource):
    """Deployment, Service, HorizontalPodAutoscaler, an ingress NetworkPolicy (the VPC on port 8080) and
    (prod) a PodDisruptionBudget of one model in one region; `url` is the Service's in-cluster address."""

    def __init__(self, name: str, args: KubernetesServingArgs, provider: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:serving:KubernetesServing", name, None, opts)
        rendered = pulumi.Output.all(args.models_bucket, args.gpu_pool, args.vpc_cidr).apply(
            lambda v: serving_objects(workload(args, v[0], v[1], v[2])))
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        kinds = ["Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy"] + (
            ["PodDisruptionBudget"] if args.prod else [])
        self.objects: dict[str, pulumi.CustomResource] = {}
        for kind in kinds:
            suffix, resource = KINDS[kind]
            obj = rendered.apply(partial(_of_kind, kind))
            opts = pulumi.ResourceOptions.merge(child, WAIT) if kind == "Deployment" else child
            self.objects[kind] = resource(f"{name}-{suffix}", metadata=obj.apply(itemgetter("metadata")),
                                          spec=obj.apply(itemgetter("spec")), opts=opts)
        self.url = f"http://{args.model.name}.{args.namespace}.svc.cluster.local"
        self.register_outputs({"url": self.url})
