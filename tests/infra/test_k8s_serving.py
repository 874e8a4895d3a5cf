"""Kubernetes serving in the example team stacks: vision-prod serves `defects` on the platform's A10G
serving pool in both regions, vision-dev on one small CPU pod; the platform exports its GPU pools and a
team model that no pool can host is a contract error naming the config key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.stacks.team import _check
from platform_lib.config.loader import load_stack_file
from platform_lib.config.schema.compute import GPU
from platform_lib.contract import ContractError, PlatformOutputs

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def serving_objects(view, region: str) -> dict[str, Any]:
    prefix = f"{view.plan.stack}-defects-k8s-{region}-"
    return {r.type.rsplit(":", 1)[-1]: r for r in view.resources if r.name.startswith(prefix)}


def test_platform_exports_its_gpu_pools(plans):
    clusters = plans["platform-prod"].plan.outputs["clusters"]
    for cluster in clusters.values():
        assert cluster["gpuPools"] == [
            {"name": "gpu-serving", "accelerator": "nvidia-a10g", "gpusPerNode": 1, "labelKey": GPU.pool_label,
             "toleration": GPU.toleration},
            {"name": "gpu-training", "accelerator": "nvidia-l4", "gpusPerNode": 4, "labelKey": GPU.pool_label,
             "toleration": GPU.toleration}]
    [dev] = plans["platform-dev"].plan.outputs["clusters"].values()
    assert [(p["name"], p["gpusPerNode"]) for p in dev["gpuPools"]] == [("gpu-a10g", 4)]   # time-sliced x4


@pytest.mark.parametrize("region", ["euw1", "use1"])
def test_prod_gpu_serving_in_each_region(plans, region):
    view = plans["vision-prod"]
    objects = serving_objects(view, region)
    assert sorted(objects) == ["Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "PodDisruptionBudget",
                               "Service"]
    deployment = objects["Deployment"].inputs
    assert deployment["metadata"]["namespace"] == "vision"
    assert "replicas" not in deployment["spec"]   # the HPA owns the scale (min 2 below)
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "vision-workload" and pod["priorityClassName"] == "ml-serving"
    assert pod["tolerations"] == [GPU.toleration] and pod["nodeSelector"] == {GPU.pool_label: "gpu-serving"}
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    serve = pod["containers"][0]
    full_region = {"euw1": "eu-west-1", "use1": "us-east-1"}[region]
    assert serve["image"] == f"222222222222.dkr.ecr.{full_region}.amazonaws.com/vision/serving:2.1.0"
    assert serve["resources"] == {"requests": {"cpu": "2", "memory": "12Gi", "nvidia.com/gpu": "1"},
                                  "limits": {"cpu": "4", "memory": "12Gi", "nvidia.com/gpu": "1"}}
    assert serve["readinessProbe"]["httpGet"] == {"path": "/ping", "port": "http"}
    fetch = pod["initContainers"][0]["command"]
    bucket = view.plan.outputs["modelsBuckets"][full_region]
    assert fetch[-2:] == [f"--uri=s3://{bucket}/defects/4/model.tar.gz", "--into=/opt/ml/model"]
    hpa = objects["HorizontalPodAutoscaler"].inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 3)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert objects["PodDisruptionBudget"].inputs["spec"]["maxUnavailable"] == 1
    # the objects go to the cluster of their own region, through the tenancy's provider
    provider = view.by_urn[objects["Deployment"].provider]
    assert provider.name == f"k8s-vision-prod-tenancy-{region}"
    ingress = objects["NetworkPolicy"].inputs["spec"]["ingress"][0]
    cidr = {"euw1": "10.20.0.0/16", "use1": "10.21.0.0/16"}[region]
    assert ingress == {"from": [{"ipBlock": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": 8080}]}
    assert view.plan.outputs["kubernetesServices"]["defects"][full_region] == \
        "http://defects.vision.svc.cluster.local"


def test_dev_serves_one_small_cpu_pod_without_budget(plans):
    objects = serving_objects(plans["vision-dev"], "euw1")
    assert "PodDisruptionBudget" not in objects
    pod = objects["Deployment"].inputs["spec"]["template"]["spec"]
    assert "tolerations" not in pod and "nodeSelector" not in pod
    assert pod["containers"][0]["resources"] == {"requests": {"cpu": "250m", "memory": "1Gi"},
                                                 "limits": {"cpu": "1", "memory": "1Gi"}}
    hpa = objects["HorizontalPodAutoscaler"].inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 1)


def _vision_prod_with(plans, resources: dict):
    team = load_stack_file(ROOT / "stacks" / "Pulumi.vision-prod.yaml").team
    assert team is not None
    model = team.served.models[0]
    assert model.resources is not None
    changed = model.model_copy(update={"resources": model.resources.model_copy(update=resources)})
    object.__setattr__(team.served, "models", [changed])
    return team, PlatformOutputs.model_validate(plans["platform-prod"].plan.outputs)


def test_gpu_model_without_a_fitting_pool_is_a_contract_error(plans):
    team, platform = _vision_prod_with(plans, {})
    assert _check(platform, team, "platform-prod") is platform
    team, platform = _vision_prod_with(plans, {"gpus": 8, "pool": None})
    with pytest.raises(ContractError, match=r"serving\.models\[0\]\.resources\.gpus: model 'defects' asks for 8 "
                                            r"GPU\(s\) per pod, but the cluster of platform-prod in eu-west-1 has no "
                                            r"GPU pool that fits \(GPU pools: gpu-serving \(1 GPU/node\), "
                                            r"gpu-training \(4 GPU/node\)\)"):
        _check(platform, team, "platform-prod")
    team, platform = _vision_prod_with(plans, {"pool": "gpu-h100"})
    with pytest.raises(ContractError, match=r"serving\.models\[0\]\.resources\.pool: .* on pool 'gpu-h100'"):
        _check(platform, team, "platform-prod")
