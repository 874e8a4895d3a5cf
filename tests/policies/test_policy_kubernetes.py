"""Kubernetes rules: the GPU taint/toleration contract, namespace quotas, non-root containers."""

from __future__ import annotations

import pytest

from platform_lib.config.schema.compute import GPU
from policies.rules.gpu_taint_tolerated import RULE as GPU_TAINT
from policies.rules.k8s_containers_non_root import RULE as NON_ROOT
from policies.rules.k8s_namespace_resource_quota import RULE as QUOTA

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
SAFE = {"runAsNonRoot": True}


def pool(kit, name="gpu", taints=(GPU.eks_taint,), labels=None, ami="AL2023_x86_64_NVIDIA", types=("g5.xlarge",)):
    return kit.resource(NODE_GROUP, {"nodeGroupName": name, "amiType": ami, "instanceTypes": list(types),
                                     "taints": list(taints), "labels": labels or {GPU.pool_label: name}}, name)


def gpu_pod(tolerations=(GPU.toleration,), selector=None, gpus=1):
    spec = {"securityContext": SAFE, "tolerations": list(tolerations),
            "containers": [{"name": "model", "image": "serve:1", "resources": {"limits": {"nvidia.com/gpu": gpus}}}]}
    if selector:
        spec["nodeSelector"] = selector
    return {"metadata": {"name": "scorer", "namespace": "fraud"},
            "spec": {"selector": {"matchLabels": {"app": "scorer"}},
                     "template": {"metadata": {"labels": {"app": "scorer"}}, "spec": spec}}}


def test_tainted_pool_and_tolerating_workload_are_compliant(kit):
    stack = kit.stack(pool(kit), kit.resource(DEPLOYMENT, gpu_pod(selector={GPU.pool_label: "gpu"}), "scorer"))
    assert kit.run(GPU_TAINT, stack) == []


def test_exists_toleration_counts(kit):
    exists = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert kit.run(GPU_TAINT, kit.stack(pool(kit), kit.resource(DEPLOYMENT, gpu_pod([exists]), "scorer"))) == []


def test_gpu_pool_without_the_taint_is_reported(kit):
    bare = pool(kit, "gpu-bare", taints=[])
    cpu = pool(kit, "system", taints=[], ami="AL2023_x86_64_STANDARD", types=["m6i.large"])
    [(message, urn)] = kit.run(GPU_TAINT, kit.stack(bare, cpu))
    assert urn == bare.urn
    assert "GPU node group 'gpu-bare' lacks the taint nvidia.com/gpu=true:NoSchedule" in message


def test_gpu_deployment_without_toleration_is_reported(kit):
    deployment = kit.resource(DEPLOYMENT, gpu_pod(tolerations=[]), "scorer")
    [(message, urn)] = kit.run(GPU_TAINT, kit.stack(pool(kit), deployment))
    assert urn == deployment.urn
    assert "Deployment 'fraud/scorer' requests nvidia.com/gpu but does not tolerate nvidia.com/gpu=true:NoSchedule" \
        in message


def test_gpu_workload_no_pool_can_host_is_reported(kit):
    job = kit.resource(JOB, {"metadata": {"name": "train", "namespace": "fraud"},
                             "spec": {"template": {"spec": gpu_pod()["spec"]["template"]["spec"]}}}, "train")
    [(message, urn)] = kit.run(GPU_TAINT, kit.stack(job))
    assert urn == job.urn and "no GPU node pool could host it" in message
    assert "no GPU node pool in this stack" in message
    wrong_pool = kit.resource(DEPLOYMENT, gpu_pod(selector={GPU.pool_label: "gpu-h100"}), "scorer")
    [(message, _)] = kit.run(GPU_TAINT, kit.stack(pool(kit), wrong_pool))
    assert "GPU node pools in this stack: gpu" in message


def test_extra_pool_taints_must_be_tolerated_too(kit):
    tainted = pool(kit, taints=[GPU.eks_taint, {"key": "team", "value": "vision", "effect": "NO_SCHEDULE"}])
    [(message, _)] = kit.run(GPU_TAINT, kit.stack(tainted, kit.resource(DEPLOYMENT, gpu_pod(), "scorer")))
    assert "no GPU node pool could host it" in message


def test_device_plugin_must_tolerate_the_taint(kit):
    plugin = {"metadata": {"name": "nvidia-device-plugin", "namespace": "kube-system"},
              "spec": {"template": {"spec": {"containers": [
                  {"name": "p", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"}]}}}}
    [(message, _)] = kit.run(GPU_TAINT, kit.stack(pool(kit), kit.resource(DAEMONSET, plugin, "plugin")))
    assert "is the device plugin but does not tolerate" in message


def test_cpu_workloads_are_ignored(kit):
    web = gpu_pod(tolerations=[], gpus=0)
    assert kit.run(GPU_TAINT, kit.stack(kit.resource(DEPLOYMENT, web, "web"))) == []


# -- namespace quotas ---------------------------------------------------------------------------

def namespace(kit, name):
    return kit.resource("kubernetes:core/v1:Namespace", {"metadata": {"name": name}}, f"ns-{name}", provider=None)


def test_namespace_with_quota_is_compliant_and_without_is_reported(kit):
    quota = kit.resource("kubernetes:core/v1:ResourceQuota",
                         {"metadata": {"name": "q", "namespace": "fraud"}, "spec": {"hard": {"requests.cpu": "4"}}},
                         "quota", provider=None)
    fraud, vision = namespace(kit, "fraud"), namespace(kit, "vision")
    [(message, urn)] = kit.run(QUOTA, kit.stack(fraud, vision, quota))
    assert urn == vision.urn and "namespace 'vision' has no ResourceQuota" in message


# -- non-root containers ------------------------------------------------------------------------

def deployment(pod_context=None, container_context=None, namespace="fraud"):
    container = {"name": "app", "image": "app:1"}
    if container_context is not None:
        container["securityContext"] = container_context
    spec = {"containers": [container]}
    if pod_context is not None:
        spec["securityContext"] = pod_context
    return {"metadata": {"name": "app", "namespace": namespace}, "spec": {"template": {"spec": spec}}}


@pytest.mark.parametrize("pod, container", [(SAFE, {}), ({}, {"runAsUser": 1000}), ({"runAsUser": 1000}, None)])
def test_non_root_containers_are_compliant(kit, pod, container):
    assert kit.run(NON_ROOT, kit.args(DEPLOYMENT, deployment(pod, container))) == []


@pytest.mark.parametrize("pod, container, expected", [
    (SAFE, {"privileged": True}, "container 'app' is privileged"),
    (SAFE, {"allowPrivilegeEscalation": True}, "container 'app' allows privilege escalation"),
    ({}, {}, "container 'app' may run as root"),
    (SAFE, {"runAsUser": 0}, "container 'app' may run as root"),
])
def test_privileged_or_root_containers_are_reported(kit, pod, container, expected):
    [(message, _)] = kit.run(NON_ROOT, kit.args(DEPLOYMENT, deployment(pod, container)))
    assert message.startswith("Deployment 'fraud/app'") and expected in message


def test_platform_node_agents_in_kube_system_are_exempt(kit):
    assert kit.run(NON_ROOT, kit.args(DAEMONSET, deployment({}, {"runAsUser": 0}, namespace="kube-system"))) == []
    # only node agents: a Deployment in kube-system, or a DaemonSet elsewhere, is checked
    assert len(kit.run(NON_ROOT, kit.args(DEPLOYMENT, deployment({}, {"runAsUser": 0}, namespace="kube-system")))) == 1
    assert len(kit.run(NON_ROOT, kit.args(DAEMONSET, deployment({}, {"runAsUser": 0})))) == 1
