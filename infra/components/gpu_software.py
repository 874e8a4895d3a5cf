"""In-cluster GPU software as plain Kubernetes objects: the NVIDIA device plugin (with time-slicing when a
pool shares its GPUs), the DCGM exporter for GPU metrics, and the priority classes of ML workloads."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra import versions
from infra.components.k8s_common import RESTRICTED_CONTAINER, meta
from platform_lib.config.schema.compute import GPU, NodePool

NAMESPACE = "kube-system"   # node agents of the platform; teams have no access to it
DEVICE_PLUGIN = "nvidia-device-plugin"
DCGM_EXPORTER = "dcgm-exporter"
DCGM_PORT = 9400
PRIORITY_CLASSES = {
    "ml-serving": (100_000, "Online inference: preempts training and batch when GPUs are short."),
    "ml-training": (10_000, "Training jobs: run when serving does not need the capacity."),
    "ml-batch": (1_000, "Batch and experiments: first to be preempted."),
}
"""Serving above training above batch; all below the system-* classes of node agents."""


def tolerations(pools: list[NodePool]) -> list[dict[str, str]]:
    """The GPU toleration (from the one GPU object) plus a toleration for each extra taint of the pools."""
    extra = {(t.key, t.value, t.effect) for pool in pools for t in pool.taints}
    return [GPU.toleration, *({"key": k, "operator": "Equal", "value": v, "effect": e} for k, v, e in sorted(extra))]


def sharing_key(pool: NodePool) -> str:
    """Pools with the same sharing share one device plugin DaemonSet (and config)."""
    if pool.sharing and pool.sharing.time_slicing:
        return f"ts{pool.sharing.time_slicing.replicas}"
    if pool.sharing and pool.sharing.mig:
        return "mig"
    return "exclusive"


def device_plugin_config(pool: NodePool) -> dict[str, Any]:
    """The device plugin's config file (`version: v1`) for a pool's sharing mode."""
    config: dict[str, Any] = {"version": "v1", "flags": {
        "migStrategy": "single" if pool.sharing and pool.sharing.mig else "none", "failOnInitError": True}}
    if pool.sharing and pool.sharing.time_slicing:
        config["sharing"] = {"timeSlicing": {"renameByDefault": False, "failRequestsGreaterThanOne": True,
                                             "resources": [{"name": GPU.resource,
                                                            "replicas": pool.sharing.time_slicing.replicas}]}}
    return config


def _daemonset_spec(name: str, pools: list[NodePool], pod: dict[str, Any]) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "selector": {"matchLabels": labels},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {"metadata": {"labels": labels}, "spec": {
            "priorityClassName": "system-node-critical",
            "affinity": GPU.affinity([p.name for p in pools]),
            "tolerations": tolerations(pools),
            **pod,
        }},
    }


class GpuSoftware(pulumi.ComponentResource):
    """Device plugin DaemonSets (one per sharing mode, on exactly the GPU pools that use it), their
    time-slicing ConfigMaps, the DCGM exporter on every GPU pool, and the ML priority classes."""

    def __init__(self, name: str, gpu_pools: list[NodePool], kubernetes: k8s.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:compute:GpuSoftware", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=kubernetes)
        self.priority_classes = [
            k8s.scheduling.v1.PriorityClass(
                f"{name}-{pc}", metadata=meta(pc), value=value, global_default=False, description=text,
                preemption_policy="PreemptLowerPriority", opts=child)
            for pc, (value, text) in PRIORITY_CLASSES.items()
        ]
        self.device_plugins: list[k8s.apps.v1.DaemonSet] = []
        groups: dict[str, list[NodePool]] = defaultdict(list)
        for pool in gpu_pools:
            groups[sharing_key(pool)].append(pool)
        for key, pools in sorted(groups.items()):
            self.device_plugins.append(self._device_plugin(name, key, pools, child))
        if gpu_pools:
            self._dcgm_exporter(name, gpu_pools, child)
        self.register_outputs({})

    def _device_plugin(self, name: str, key: str, pools: list[NodePool], child) -> k8s.apps.v1.DaemonSet:
        plugin = f"{DEVICE_PLUGIN}-{key}"
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-{plugin}-config", metadata=meta(plugin, NAMESPACE),
            data={"config.yaml": json.dumps(device_plugin_config(pools[0]), indent=2)}, opts=child)
        pod = {
            "containers": [{
                "name": DEVICE_PLUGIN,
                "image": versions.IMAGES["nvidia-device-plugin"],
                "args": ["--config-file=/config/config.yaml"],
                "securityContext": {**RESTRICTED_CONTAINER, "readOnlyRootFilesystem": False},
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
                "volumeMounts": [{"name": "device-plugins", "mountPath": "/var/lib/kubelet/device-plugins"},
                                 {"name": "config", "mountPath": "/config", "readOnly": True}],
            }],
            "volumes": [{"name": "device-plugins", "hostPath": {"path": "/var/lib/kubelet/device-plugins",
                                                                "type": "Directory"}},
                        {"name": "config", "configMap": {"name": plugin}}],
        }
        return k8s.apps.v1.DaemonSet(
            f"{name}-{plugin}", metadata=meta(plugin, NAMESPACE), spec=_daemonset_spec(plugin, pools, pod),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[config_map])))

    def _dcgm_exporter(self, name: str, pools: list[NodePool], child) -> None:
        labels = {"app.kubernetes.io/name": DCGM_EXPORTER}
        pod = {
            "containers": [{
                "name": DCGM_EXPORTER,
                "image": versions.IMAGES["dcgm-exporter"],
                "env": [{"name": "DCGM_EXPORTER_LISTEN", "value": f":{DCGM_PORT}"},
                        {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"}],
                "ports": [{"name": "metrics", "containerPort": DCGM_PORT}],
                # root to read the kubelet's pod-resources socket (GPU -> pod mapping); not privileged
                "securityContext": {"runAsNonRoot": False, "runAsUser": 0, "privileged": False,
                                    "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}},
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                "volumeMounts": [{"name": "pod-resources", "mountPath": "/var/lib/kubelet/pod-resources",
                                  "readOnly": True}],
            }],
            "volumes": [{"name": "pod-resources", "hostPath": {"path": "/var/lib/kubelet/pod-resources",
                                                               "type": "Directory"}}],
        }
        k8s.apps.v1.DaemonSet(f"{name}-{DCGM_EXPORTER}", metadata=meta(DCGM_EXPORTER, NAMESPACE, labels),
                              spec=_daemonset_spec(DCGM_EXPORTER, pools, pod), opts=child)
        k8s.core.v1.Service(
            f"{name}-{DCGM_EXPORTER}-svc", metadata=meta(DCGM_EXPORTER, NAMESPACE, labels),
            spec={"selector": labels, "ports": [{"name": "metrics", "port": DCGM_PORT, "targetPort": DCGM_PORT}]},
            opts=child)
