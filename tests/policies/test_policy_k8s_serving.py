"""Kubernetes serving rules: probes, requests/limits, read-only root filesystem, a PDB in prod. The
compliant cases are the objects of the platform's one serving renderer (platform_lib.k8s_serving)."""

from __future__ import annotations

import copy

import pytest

from platform_lib.k8s_serving import ServingWorkload, serving_objects
from policies.rules.k8s_container_resources import RULE as RESOURCES
from policies.rules.k8s_deployment_probes import RULE as PROBES
from policies.rules.k8s_prod_disruption_budget import RULE as PDB
from policies.rules.k8s_read_only_root_filesystem import RULE as READ_ONLY

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget"
PROD = {"requireDisruptionBudget": True}


def rendered(prod: bool = True) -> dict[str, dict]:
    workload = ServingWorkload(name="defects", namespace="vision", image="img:1", model_uri="s3://b/k/model.tar.gz",
                               service_account="vision-workload", cpu="1", memory="2Gi", min_replicas=2,
                               max_replicas=3, disruption_budget=prod)
    return {o["kind"]: {k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
            for o in serving_objects(workload)}


def deployment() -> dict:
    return copy.deepcopy(rendered()["Deployment"])


def pod(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


@pytest.mark.parametrize("rule", [PROBES, RESOURCES, READ_ONLY])
def test_rendered_serving_deployment_is_compliant(kit, rule):
    assert kit.run(rule, kit.args(DEPLOYMENT, deployment(), provider=None)) == []


def test_deployment_without_probes_is_reported(kit):
    obj = deployment()
    pod(obj)["containers"][0].pop("livenessProbe")
    [(message, _)] = kit.run(PROBES, kit.args(DEPLOYMENT, obj, provider=None))
    assert message.startswith("Deployment 'vision/defects' container 'serve' has no livenessProbe;")
    pod(obj)["containers"][0].pop("readinessProbe")
    [(message, _)] = kit.run(PROBES, kit.args(DEPLOYMENT, obj, provider=None))
    assert "has no readinessProbe or livenessProbe" in message


def test_platform_agents_in_kube_system_need_no_probes(kit):
    obj = deployment()
    obj["metadata"]["namespace"] = "kube-system"
    pod(obj)["containers"][0].pop("livenessProbe")
    assert kit.run(PROBES, kit.args(DEPLOYMENT, obj, provider=None)) == []


@pytest.mark.parametrize("container, path, expected", [
    ("initContainers", ("requests", "memory"), "container 'model' states no requests.memory"),
    ("containers", ("limits", "memory"), "container 'serve' states no limits.memory"),
    ("containers", ("requests", "cpu"), "container 'serve' states no requests.cpu"),
])
def test_missing_requests_or_limits_are_reported(kit, container, path, expected):
    obj = deployment()
    resources = pod(obj)[container][0]["resources"]
    resources[path[0]] = {k: v for k, v in resources[path[0]].items() if k != path[1]}
    [(message, _)] = kit.run(RESOURCES, kit.args(DEPLOYMENT, obj, provider=None))
    assert expected in message


def test_gpu_request_without_limit_is_reported(kit):
    obj = deployment()
    pod(obj)["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = "1"
    [(message, _)] = kit.run(RESOURCES, kit.args(DEPLOYMENT, obj, provider=None))
    assert "states no limits.nvidia.com/gpu" in message


def test_writable_root_filesystem_is_reported(kit):
    obj = deployment()
    pod(obj)["initContainers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    del pod(obj)["containers"][0]["securityContext"]["readOnlyRootFilesystem"]
    found = kit.run(READ_ONLY, kit.args(DEPLOYMENT, obj, provider=None))
    assert [m.split(" can write")[0] for m, _ in found] == [
        "Deployment 'vision/defects' container 'model'", "Deployment 'vision/defects' container 'serve'"]


def test_prod_deployment_needs_a_matching_budget(kit):
    objects = rendered()
    app = kit.resource(DEPLOYMENT, objects["Deployment"], "defects", provider=None)
    budget = kit.resource(PDB_TYPE, objects["PodDisruptionBudget"], "defects-pdb", provider=None)
    assert kit.run(PDB, kit.stack(app, budget, config=PROD)) == []
    [(message, urn)] = kit.run(PDB, kit.stack(app, config=PROD))
    assert urn == app.urn and message.startswith("Deployment 'vision/defects' has no PodDisruptionBudget")
    elsewhere = copy.deepcopy(objects["PodDisruptionBudget"])
    elsewhere["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/instance": "other"}
    stray = kit.resource(PDB_TYPE, elsewhere, "other-pdb", provider=None)
    assert len(kit.run(PDB, kit.stack(app, stray, config=PROD))) == 1


def test_budget_not_required_outside_prod(kit):
    app = kit.resource(DEPLOYMENT, rendered(prod=False)["Deployment"], "defects", provider=None)
    assert "PodDisruptionBudget" not in rendered(prod=False)
    assert kit.run(PDB, kit.stack(app)) == []
    assert kit.run(PDB, kit.stack(app, config={"requireDisruptionBudget": False})) == []


def test_team_gpu_pod_on_a_named_platform_pool_is_left_to_the_contract_check(kit):
    """A team stack has no node groups (they are the platform's): a GPU pod selecting a named pool passes;
    one selecting no pool is still reported; where the stack has pools, the selector must match one."""
    from platform_lib.config.schema.compute import GPU
    from platform_lib.k8s_serving import GpuPlacement
    from policies.rules.gpu_taint_tolerated import RULE as GPU_TAINT

    workload = ServingWorkload(name="defects", namespace="vision", image="img:1", model_uri="s3://b/k",
                               service_account="sa", cpu="1", memory="2Gi", gpus=1,
                               gpu=GpuPlacement(GPU.toleration, GPU.pool_label, "gpu-serving"))
    obj = serving_objects(workload)[0]
    app = kit.resource(DEPLOYMENT, obj, "defects", provider=None)
    assert kit.run(GPU_TAINT, kit.stack(app)) == []
    unpinned = copy.deepcopy(obj)
    del unpinned["spec"]["template"]["spec"]["nodeSelector"]
    [(message, _)] = kit.run(GPU_TAINT, kit.stack(kit.resource(DEPLOYMENT, unpinned, "defects", provider=None)))
    assert "no GPU node pool in this stack" in message
    other = kit.resource("aws:eks/nodeGroup:NodeGroup", {
        "nodeGroupName": "gpu-training", "amiType": "AL2023_x86_64_NVIDIA", "instanceTypes": ["g6.12xlarge"],
        "taints": [GPU.eks_taint], "labels": {GPU.pool_label: "gpu-training"}}, "gpu-training")
    [(message, _)] = kit.run(GPU_TAINT, kit.stack(other, app))
    assert "GPU node pools in this stack: gpu-training" in message


def test_a_budget_in_another_cluster_does_not_count(kit):
    objects = rendered()
    here = kit.provider(name="k8s-euw1")
    there = kit.provider(name="k8s-use1")
    app = kit.resource(DEPLOYMENT, objects["Deployment"], "defects", provider=here)
    budget = kit.resource(PDB_TYPE, objects["PodDisruptionBudget"], "defects-pdb", provider=there)
    assert len(kit.run(PDB, kit.stack(app, budget, config=PROD))) == 1
