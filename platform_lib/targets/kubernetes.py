"""The Kubernetes target: the same images on the team's namespace of the platform's EKS cluster.

Training is an indexed Job (one pod per node, ``torchrun`` across them, rendezvous on pod 0 through a
headless Service); serving is a Deployment + Service + HorizontalPodAutoscaler (+ PodDisruptionBudget in
prod), rendered by ``platform_lib.k8s_serving``, the function the team stack's `KubernetesServing` uses too.
Pods fetch their channels/model from S3 and store the model back with ``platform_lib.targets.podrun`` under the team's
service account (IRSA). Every object is validated with kubernetes-validate (strict) and checked by the
policy pack before anything is applied; objects are applied (server-side apply) with the official
``kubernetes`` client only when a kubeconfig is given, and ``dry_run`` only renders them.
"""

from __future__ import annotations

import json
import shlex
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platform_lib import guard, outputs, registry
from platform_lib.aws import Aws
from platform_lib.contract import TeamOutputs
from platform_lib.k8s_serving import GpuPlacement, ServingWorkload, serving_objects
from platform_lib.targets.base import (
    Deployment,
    DeployRequest,
    Progress,
    Target,
    TargetError,
    TrainingRequest,
    TrainingResult,
    quiet,
)

KUBERNETES_VERSION = "1.33"     # the schema version objects are validated against
MASTER_PORT = 29500
PODRUN = ["python", "-m", "platform_lib.targets.podrun"]
FIELD_MANAGER = "mlp"


TRAINING_UID = 10001
"""The unprivileged user training pods run as (the serving image's USER too)."""


def gpu_toleration() -> dict[str, str]:
    """The toleration of the platform's GPU taint (the compute config's one object, when present)."""
    try:
        from platform_lib.config.schema.compute import GPU  # type: ignore[import-not-found,unused-ignore]

        return dict(GPU.toleration)
    except ImportError:
        return {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def namespace_of(team: TeamOutputs) -> str:
    return getattr(team, "namespace", None) or team.team


def service_account_of(team: TeamOutputs) -> str:
    return getattr(team, "service_account", None) or f"{team.team}-workloads"


def _labels(team: TeamOutputs, model: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": model, "app.kubernetes.io/component": component,
            "app.kubernetes.io/managed-by": FIELD_MANAGER, "ml-platform/team": team.team,
            "ml-platform/env": team.environment}


def _resources(cpu: str, memory: str, gpus: int) -> dict[str, Any]:
    limits: dict[str, Any] = {"cpu": cpu, "memory": memory}
    if gpus:
        limits["nvidia.com/gpu"] = gpus
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}


def training_manifests(request: TrainingRequest, gpus_per_pod: int = 0, cpu: str = "2",
                       memory: str = "8Gi") -> list[dict[str, Any]]:
    team, name = request.team, request.job_name
    namespace, labels = namespace_of(team), _labels(team, request.model, "training")
    bucket, key_arn = outputs.models_location(team)
    nodes, per_node = request.instance_count, max(gpus_per_pod, 1)
    channels = [f"--channel={c}={u}" for c, u in sorted(request.channels.items())]
    fetch = [*PODRUN, "fetch", "--base=/opt/ml", *channels,
             f"--hyperparameters={json.dumps(request.all_hyperparameters, sort_keys=True)}"]
    store = [*PODRUN, "store", "--model-dir=/opt/ml/model", f"--uri=s3://{bucket}/models/{request.model}",
             f"--kms-key={key_arn}"]
    torchrun = (f"torchrun --nnodes={nodes} --nproc_per_node={per_node} --node_rank=$JOB_COMPLETION_INDEX "
                f"--master_addr={name}-0.{name} --master_port={MASTER_PORT} -m training")
    script = f'{torchrun} && if [ "$JOB_COMPLETION_INDEX" = 0 ]; then {shlex.join(store)}; fi'
    volume = [{"name": "opt-ml", "mountPath": "/opt/ml"}, {"name": "scratch", "mountPath": "/tmp"}]
    env = [{"name": "SAGEMAKER_BASE_DIR", "value": "/opt/ml"}, {"name": "TRAINING_JOB_NAME", "value": name},
           {"name": "HOME", "value": "/tmp"},   # caches (torch, pip) on the scratch volume: the root is read-only
           *({"name": k, "value": v} for k, v in sorted(request.environment.items()))]
    container_security = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                          "capabilities": {"drop": ["ALL"]}}
    pod: dict[str, Any] = {
        "serviceAccountName": service_account_of(team), "subdomain": name, "restartPolicy": "Never",
        # The training image runs as root on SageMaker; in the shared cluster it runs as an unprivileged user
        # that owns /opt/ml (fsGroup), as the pack's k8s-containers-non-root rule requires.
        "securityContext": {"runAsNonRoot": True, "runAsUser": TRAINING_UID, "runAsGroup": TRAINING_UID,
                            "fsGroup": TRAINING_UID, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "opt-ml", "emptyDir": {}}, {"name": "scratch", "emptyDir": {}}],
        "initContainers": [{"name": "fetch", "image": request.image, "command": fetch, "env": env,
                            "volumeMounts": volume, "securityContext": container_security,
                            "resources": _resources("500m", "1Gi", 0)}],
        "containers": [{"name": "train", "image": request.image, "command": ["sh", "-c", script], "env": env,
                        "ports": [{"containerPort": MASTER_PORT, "name": "rendezvous"}],
                        "volumeMounts": volume, "securityContext": container_security,
                        "resources": _resources(cpu, memory, gpus_per_pod)}],
    }
    if gpus_per_pod:
        pod["tolerations"] = [gpu_toleration()]
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": name, "namespace": namespace, "labels": labels},
           "spec": {"completionMode": "Indexed", "completions": nodes, "parallelism": nodes, "backoffLimit": 0,
                    "activeDeadlineSeconds": request.max_runtime_s, "ttlSecondsAfterFinished": 86400,
                    "template": {"metadata": {"labels": labels}, "spec": pod}}}
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": namespace, "labels": labels},
               "spec": {"clusterIP": "None", "selector": {"batch.kubernetes.io/job-name": name},
                        "ports": [{"name": "rendezvous", "port": MASTER_PORT}]}}
    return [service, job]


def serving_manifests(request: DeployRequest, gpus: int = 0, min_replicas: int = 1, max_replicas: int = 4,
                      cpu: str = "1", memory: str = "2Gi",
                      allow_from_cidrs: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The objects the team stack's `KubernetesServing` renders too (``platform_lib.k8s_serving``), for one
    approved package; prod gets at least 2 replicas, a PodDisruptionBudget and a strict zone spread."""
    team, package = request.team, request.package
    prod = team.environment == "prod"
    workload = ServingWorkload(
        name=request.endpoint, namespace=namespace_of(team), image=package.image, model_uri=package.model_data_url,
        service_account=service_account_of(team), cpu=cpu, memory=memory, gpus=gpus,
        gpu=GpuPlacement(gpu_toleration()) if gpus else None,
        min_replicas=max(min_replicas, 2) if prod else min_replicas,
        max_replicas=max(max_replicas, 2) if prod else max_replicas, cpu_target_percent=70,
        disruption_budget=prod, spread_strictly=prod, allow_from_cidrs=allow_from_cidrs,
        labels=_labels(team, package.group, "serving") | {"ml-platform/model-version": str(package.version)},
        annotations={"ml-platform/model-package": package.arn})
    return serving_objects(workload)


def validate(objects: list[dict[str, Any]], version: str = KUBERNETES_VERSION) -> None:
    """kubernetes-validate in strict mode (unknown fields fail); an unknown apiVersion fails too."""
    import kubernetes_validate

    for obj in objects:
        where = f"{obj.get('kind')} {obj.get('metadata', {}).get('name')}"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                raise TargetError(f"{where} is not a valid Kubernetes {version} object: {exc.message} "
                                  f"(at {'.'.join(map(str, exc.path))})") from None
            except kubernetes_validate.SchemaNotFoundError:
                raise TargetError(f"{where}: no schema for {obj.get('apiVersion')} {obj.get('kind')} in "
                                  f"Kubernetes {version} (unknown apiVersion or kind)") from None
            except Warning as exc:
                raise TargetError(f"{where}: {exc}") from None


def as_requests(objects: list[dict[str, Any]]) -> list[guard.Request]:
    """Objects as the pulumi-kubernetes resources that would create them (type token, inputs)."""
    requests = []
    for obj in objects:
        group_version = obj["apiVersion"] if "/" in obj["apiVersion"] else f"core/{obj['apiVersion']}"
        requests.append(guard.Request(f"kubernetes:{group_version}:{obj['kind']}",
                                      f"{obj['metadata']['namespace']}/{obj['metadata']['name']}", dict(obj)))
    return requests


def to_yaml(objects: list[dict[str, Any]]) -> str:
    import yaml

    return "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objects)


class KubernetesTarget(Target):
    name = "kubernetes"

    def __init__(self, aws: Aws | None = None, kubeconfig: Path | None = None, dry_run: bool = False,
                 gpus: int = 0, show: Callable[[str], None] = print, warn: Progress = quiet, poll_s: float = 10.0,
                 namespace: str | None = None, allow_from_cidrs: tuple[str, ...] = ()):
        self.aws, self.kubeconfig, self.dry_run, self.gpus = aws, kubeconfig, dry_run, gpus
        self.allow_from_cidrs = allow_from_cidrs   # the clusters' VPCs: the serving port's NetworkPolicy
        self.namespace = namespace
        self.show, self.warn, self.poll_s = show, warn, poll_s
        self._client: Any = None

    def _prepare(self, objects: list[dict[str, Any]], team: TeamOutputs) -> None:
        validate(objects)
        guard.enforce(as_requests(objects), team.environment, warn=self.warn)
        if self.dry_run:
            self.show(to_yaml(objects))
        elif self.kubeconfig is None:
            raise TargetError("no kubeconfig: pass --kubeconfig FILE to apply, or --dry-run to print the manifests")

    def _dynamic(self) -> Any:
        if self._client is None:
            from kubernetes import config, dynamic
            from kubernetes.client import api_client

            self._client = dynamic.DynamicClient(
                api_client.ApiClient(configuration=config.load_kube_config(config_file=str(self.kubeconfig))
                                     or None))
        return self._client

    def _apply(self, objects: list[dict[str, Any]]) -> None:
        client = self._dynamic()
        for obj in objects:
            resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
            resource.server_side_apply(body=obj, namespace=obj["metadata"]["namespace"],
                                       field_manager=FIELD_MANAGER, force_conflicts=True)

    def train(self, request: TrainingRequest, progress: Progress = quiet) -> TrainingResult:
        objects = training_manifests(request, self.gpus)
        self._prepare(objects, request.team)
        if self.dry_run:
            return TrainingResult(request.job_name, self.name, "DryRun", None)
        started = time.perf_counter()
        self._apply(objects)
        jobs = self._dynamic().resources.get(api_version="batch/v1", kind="Job")
        namespace = namespace_of(request.team)
        while True:
            status = jobs.get(name=request.job_name, namespace=namespace).status
            progress(f"{request.job_name}: {status.succeeded or 0} succeeded, {status.active or 0} active, "
                     f"{status.failed or 0} failed")
            if (status.succeeded or 0) >= request.instance_count:
                return TrainingResult(request.job_name, self.name, "Completed", None,
                                      seconds=time.perf_counter() - started)
            if status.failed:
                conditions = "; ".join(f"{c.reason}: {c.message}" for c in status.conditions or [])
                return TrainingResult(request.job_name, self.name, "Failed", None, failure_reason=conditions,
                                      seconds=time.perf_counter() - started)
            time.sleep(self.poll_s)

    def deploy(self, request: DeployRequest, progress: Progress = quiet) -> Deployment:
        registry.require_approved(request.package)
        objects = serving_manifests(request, self.gpus, allow_from_cidrs=self.allow_from_cidrs)
        self._prepare(objects, request.team)
        if self.dry_run:
            return Deployment(request.endpoint, self.name, "DryRun", request.package.arn)
        self._apply(objects)
        return Deployment(request.endpoint, self.name, "Updating", request.package.arn,
                          f"http://{request.endpoint}.{namespace_of(request.team)}.svc")

    def _namespace(self) -> str:
        if not self.namespace:
            raise TargetError("the team's namespace is unknown: give the target the team's outputs")
        return self.namespace

    def invoke(self, endpoint: str, body: bytes, content_type: str = "application/json",
               accept: str = "application/json") -> bytes:
        """POST /invocations through the API server's service proxy (no port-forward needed)."""
        if self.kubeconfig is None:
            raise TargetError("invoke on Kubernetes needs --kubeconfig FILE")
        api = self._dynamic().client
        path = f"/api/v1/namespaces/{self._namespace()}/services/{endpoint}:http/proxy/invocations"
        response = api.call_api(path, "POST", header_params={"Content-Type": content_type, "Accept": accept},
                                body=body.decode(), auth_settings=["BearerToken"], _preload_content=False)
        return bytes(response[0].data)

    def status(self, endpoint: str) -> Deployment:
        if self.kubeconfig is None:
            raise TargetError("status on Kubernetes needs --kubeconfig FILE")
        from kubernetes.dynamic.exceptions import NotFoundError

        deployments = self._dynamic().resources.get(api_version="apps/v1", kind="Deployment")
        try:
            found = deployments.get(name=endpoint, namespace=self._namespace())
        except NotFoundError:
            return Deployment(endpoint, self.name, "NotFound")
        ready, wanted = found.status.readyReplicas or 0, found.spec.replicas or 0
        annotations = found.spec.template.metadata.annotations or {}
        return Deployment(endpoint, self.name, "InService" if ready and ready >= wanted else "Updating",
                          annotations.get("ml-platform/model-package"), None, f"{ready}/{wanted} ready")

    def stop(self, endpoint: str) -> Deployment:
        """Delete the endpoint's HPA, Service and Deployment (what ``deploy`` applied)."""
        if self.kubeconfig is None:
            raise TargetError("stop on Kubernetes needs --kubeconfig FILE")
        from kubernetes.dynamic.exceptions import NotFoundError

        client = self._dynamic()
        for api_version, kind in (("autoscaling/v2", "HorizontalPodAutoscaler"), ("v1", "Service"),
                                  ("apps/v1", "Deployment")):
            try:
                client.resources.get(api_version=api_version, kind=kind).delete(name=endpoint,
                                                                                namespace=self._namespace())
            except NotFoundError:
                pass
        return Deployment(endpoint, self.name, "Stopped")
