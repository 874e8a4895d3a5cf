"""The Kubernetes objects of one served model: ONE renderer for the team stack (`KubernetesServing`, via
pulumi-kubernetes) and for `mlp deploy --target kubernetes` (server-side apply), so both run the same pods.

A serving pod follows the SageMaker inference contract of the `serving/` image: an init container (same
image, team service account under IRSA) copies `model.tar.gz` from the team's models bucket of the region
and unpacks it into an emptyDir at `/opt/ml/model`; the server answers `GET /ping` and `POST /invocations`
on port 8080. Non-root (uid 10001, the image's user), read-only root filesystem, `/tmp` an emptyDir.
Rollout is a rolling update with maxUnavailable 0 and maxSurge 1: capacity never drops during a release
and a new pod takes traffic only once `/ping` answers (see docs/architecture.md for why not a canary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PORT = 8080
SERVICE_PORT = 80
RUN_AS = 10001                  # the serving image's USER (serving/Dockerfile)
PRIORITY_CLASS = "ml-serving"   # infra/components/gpu_software.py
PODRUN = ["python", "-m", "platform_lib.targets.podrun"]
MODEL_DIR = "/opt/ml/model"
ZONE = "topology.kubernetes.io/zone"
GPU_RESOURCE = "nvidia.com/gpu"
INIT_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}


@dataclass(frozen=True)
class GpuPlacement:
    """Where GPU pods go: the toleration of the GPU taint and, when the pool is known, its node label."""

    toleration: dict[str, str]
    label_key: str | None = None
    label_value: str | None = None


@dataclass(frozen=True)
class ServingWorkload:
    """Everything one model's serving objects depend on (plain values: rendered in both planes)."""

    name: str                       # Deployment/Service/HPA/PDB name, e.g. `defects`
    namespace: str
    image: str                      # full image URI
    model_uri: str                  # s3://bucket/key of model.tar.gz
    service_account: str
    cpu: str
    memory: str
    cpu_limit: str | None = None    # None: same as the request
    gpus: int = 0
    gpu: GpuPlacement | None = None
    min_replicas: int = 1
    max_replicas: int = 1
    cpu_target_percent: int = 60
    disruption_budget: bool = False
    spread_strictly: bool = False   # DoNotSchedule over zones (prod), else ScheduleAnyway
    allow_from_cidrs: tuple[str, ...] = ()   # a NetworkPolicy lets these in on the serving port
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def selector(workload: ServingWorkload) -> dict[str, str]:
    return {"app.kubernetes.io/instance": workload.name, "app.kubernetes.io/component": "serving"}


def container_resources(workload: ServingWorkload) -> dict[str, Any]:
    """Requests and limits: memory and GPUs limited at their request (no overcommit), CPU may burst."""
    requests: dict[str, Any] = {"cpu": workload.cpu, "memory": workload.memory}
    limits: dict[str, Any] = {"cpu": workload.cpu_limit or workload.cpu, "memory": workload.memory}
    if workload.gpus:
        requests[GPU_RESOURCE] = str(workload.gpus)
        limits[GPU_RESOURCE] = str(workload.gpus)
    return {"requests": requests, "limits": limits}


def pod_spec(workload: ServingWorkload) -> dict[str, Any]:
    mounts = [{"name": "model", "mountPath": MODEL_DIR}, {"name": "tmp", "mountPath": "/tmp"}]
    security = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    probe = {"httpGet": {"path": "/ping", "port": "http"}}
    spec: dict[str, Any] = {
        "serviceAccountName": workload.service_account,
        "priorityClassName": PRIORITY_CLASS,
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "model", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
        "initContainers": [{
            "name": "model", "image": workload.image,
            "command": [*PODRUN, "model", f"--uri={workload.model_uri}", f"--into={MODEL_DIR}"],
            "volumeMounts": mounts, "securityContext": security, "resources": INIT_RESOURCES}],
        "containers": [{
            "name": "serve", "image": workload.image, "args": ["serve"],
            "env": [{"name": "SAGEMAKER_BIND_TO_PORT", "value": str(PORT)}],
            "ports": [{"containerPort": PORT, "name": "http", "protocol": "TCP"}],
            "readinessProbe": {**probe, "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 3},
            "livenessProbe": {**probe, "initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": 5,
                              "failureThreshold": 6},
            "volumeMounts": mounts, "securityContext": security, "resources": container_resources(workload)}],
        "terminationGracePeriodSeconds": 30,     # the serving contract: SIGTERM, then SIGKILL after 30 s
        "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": ZONE,
            "whenUnsatisfiable": "DoNotSchedule" if workload.spread_strictly else "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(workload)}}],
    }
    if workload.gpu is not None:
        spec["tolerations"] = [dict(workload.gpu.toleration)]
        if workload.gpu.label_key and workload.gpu.label_value:
            spec["nodeSelector"] = {workload.gpu.label_key: workload.gpu.label_value}
    return spec


def serving_objects(workload: ServingWorkload) -> list[dict[str, Any]]:
    """Deployment, Service (ClusterIP), HorizontalPodAutoscaler (autoscaling/v2) and, when asked, a
    NetworkPolicy letting ``allow_from_cidrs`` reach port 8080 and a PodDisruptionBudget (policy/v1)
    keeping all but one pod up during node drains."""
    labels = {**workload.labels, **selector(workload)}
    metadata = {"name": workload.name, "namespace": workload.namespace, "labels": labels}
    match = {"matchLabels": selector(workload)}
    template_meta: dict[str, Any] = {"labels": labels}
    if workload.annotations:
        template_meta["annotations"] = dict(workload.annotations)
    objects: list[dict[str, Any]] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": {
            # No `replicas`: the HPA owns the scale (minReplicas from the first minute); a replicas field
            # here would reset a scaled-out Deployment to the minimum on every `pulumi up` or `mlp deploy`.
            "selector": match, "revisionHistoryLimit": 5,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": template_meta, "spec": pod_spec(workload)}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": {
            "type": "ClusterIP", "selector": selector(workload),
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}]}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": metadata, "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload.name},
            "minReplicas": workload.min_replicas, "maxReplicas": workload.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": workload.cpu_target_percent}}}],
            # Scale in slowly: a pod that loads a model is expensive to bring back.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                                       "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}}},
    ]
    if workload.allow_from_cidrs:
        # The team namespace denies ingress by default; this opens the serving port to the VPC (the API
        # server's service proxy that `mlp invoke` uses, and in-VPC front doors), nothing else.
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata,
                        "spec": {"podSelector": match, "policyTypes": ["Ingress"], "ingress": [{
                            "from": [{"ipBlock": {"cidr": cidr}} for cidr in workload.allow_from_cidrs],
                            "ports": [{"protocol": "TCP", "port": PORT}]}]}})
    if workload.disruption_budget:
        objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": metadata,
                        "spec": {"maxUnavailable": 1, "selector": match}})
    return objects
