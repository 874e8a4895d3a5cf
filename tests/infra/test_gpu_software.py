"""GPU software in-cluster: the device plugin, its time-slicing config, DCGM and priority classes agree with
the GPU pools by construction."""

import json

import yaml

from infra import versions
from platform_lib.config.schema.compute import GPU

DAEMONSET = "kubernetes:apps/v1:DaemonSet"


def daemonsets(view, prefix):
    return [d for d in view.of_type(DAEMONSET) if d.inputs["metadata"]["name"].startswith(prefix)]


def pools_of(daemonset):
    terms = daemonset.inputs["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    [expression] = terms[0]["matchExpressions"]
    assert expression["key"] == GPU.pool_label and expression["operator"] == "In"
    return expression["values"]


def test_device_plugin_tolerates_and_targets_exactly_the_gpu_pools(plans):
    for stack, view in plans.items():
        if not stack.startswith("platform-"):
            continue
        groups = [g for g in view.of_type("aws:eks/nodeGroup:NodeGroup") if g.inputs["taints"]]
        gpu_pools = {g.inputs["labels"][GPU.pool_label] for g in groups}
        plugins = daemonsets(view, "nvidia-device-plugin")
        covered = [p for d in plugins for p in pools_of(d)]
        regions = len(view.of_type("aws:eks/cluster:Cluster"))
        assert sorted(covered) == sorted(list(gpu_pools) * regions), stack
        for plugin in plugins:
            spec = plugin.inputs["spec"]["template"]["spec"]
            assert GPU.toleration in spec["tolerations"]
            for group in groups:
                taint = group.inputs["taints"][0]
                assert (taint["key"], taint["value"]) == (GPU.toleration["key"], GPU.toleration["value"])
            [container] = spec["containers"]
            assert container["image"] == versions.IMAGES["nvidia-device-plugin"]
            assert container["securityContext"]["privileged"] is False


def test_time_slicing_config_for_the_shared_pool(plans):
    view = plans["platform-dev"]
    [plugin] = daemonsets(view, "nvidia-device-plugin")
    assert plugin.inputs["metadata"]["name"] == "nvidia-device-plugin-ts4" and pools_of(plugin) == ["gpu-a10g"]
    [config_map] = [c for c in view.of_type("kubernetes:core/v1:ConfigMap")
                    if c.inputs["metadata"]["name"] == "nvidia-device-plugin-ts4"]
    config = yaml.safe_load(config_map.inputs["data"]["config.yaml"])
    assert config["version"] == "v1" and config["flags"]["migStrategy"] == "none"
    assert config["sharing"]["timeSlicing"]["resources"] == [{"name": "nvidia.com/gpu", "replicas": 4}]
    volumes = plugin.inputs["spec"]["template"]["spec"]["volumes"]
    assert {"name": "config", "configMap": {"name": "nvidia-device-plugin-ts4"}} in volumes


def test_prod_gpus_are_not_shared(plans):
    view = plans["platform-prod"]
    plugins = daemonsets(view, "nvidia-device-plugin")
    assert {p.inputs["metadata"]["name"] for p in plugins} == {"nvidia-device-plugin-exclusive"}
    [config_map] = [c for c in view.of_type("kubernetes:core/v1:ConfigMap")
                    if c.name.endswith("euw1-nvidia-device-plugin-exclusive-config")]
    assert "sharing" not in json.loads(config_map.inputs["data"]["config.yaml"])


def test_dcgm_exporter_on_every_gpu_pool_and_scrapable(plans):
    view = plans["platform-prod"]
    exporters = [d for d in view.of_type(DAEMONSET) if d.inputs["metadata"]["name"] == "dcgm-exporter"]
    assert len(exporters) == 2
    for exporter in exporters:
        assert sorted(pools_of(exporter)) == ["gpu-serving", "gpu-training"]
        [container] = exporter.inputs["spec"]["template"]["spec"]["containers"]
        assert container["image"] == versions.IMAGES["dcgm-exporter"]
        assert container["ports"] == [{"name": "metrics", "containerPort": 9400}]
    services = [s for s in view.of_type("kubernetes:core/v1:Service")
                if s.inputs["metadata"]["name"] == "dcgm-exporter"]
    assert len(services) == 2 and services[0].inputs["spec"]["ports"][0]["port"] == 9400


def test_serving_priority_above_training(plans):
    classes = {p.inputs["metadata"]["name"]: p.inputs["value"]
               for p in plans["platform-dev"].of_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")}
    assert classes["ml-serving"] > classes["ml-training"] > classes["ml-batch"] > 0
