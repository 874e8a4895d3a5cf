"""Node pools: hardened launch templates, pinned AMIs, the GPU taint, and Cluster Autoscaler from zero."""

import json

from infra import versions
from platform_lib.config.schema.compute import GPU

GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
TAG = "aws:autoscaling/tag:Tag"


def test_launch_templates_require_imdsv2_encrypt_root_and_have_no_ssh_key(plans):
    view = plans["platform-dev"]
    key = view.named("platform-dev-eks-euw1", "aws:kms/key:Key")
    templates = {t.name: t for t in view.of_type(TEMPLATE)}
    assert sorted(templates) == ["platform-dev-gpu-a10g-nodes-euw1-lt", "platform-dev-system-nodes-euw1-lt"]
    for name, template in templates.items():
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required" and metadata["httpEndpoint"] == "enabled"
        assert metadata["httpPutResponseHopLimit"] == (2 if "system" in name else 1)
        [device] = template.inputs["blockDeviceMappings"]
        assert device["ebs"]["volumeType"] == "gp3" and device["ebs"]["encrypted"] == "true"
        assert key.urn in template.property_dependencies["blockDeviceMappings"]
        assert "keyName" not in template.inputs and "imageId" not in template.inputs


def test_node_groups_pin_ami_and_carry_labels_and_the_gpu_taint(plans):
    view = plans["platform-dev"]
    groups = {g.name: g for g in view.of_type(GROUP)}
    system, gpu = groups["platform-dev-system-nodes-euw1"], groups["platform-dev-gpu-a10g-nodes-euw1"]
    release = versions.AMI_RELEASES[versions.KUBERNETES_VERSION]
    assert (system.inputs["amiType"], system.inputs["releaseVersion"]) == ("AL2023_x86_64_STANDARD", release)
    assert (gpu.inputs["amiType"], gpu.inputs["releaseVersion"]) == ("AL2023_x86_64_NVIDIA", release)
    assert system.inputs["taints"] == []
    assert gpu.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu.inputs["labels"] == {"ml-platform/pool": "gpu-a10g", "ml-platform/capacity": "spot",
                                    "ml-platform/accelerator": "nvidia-a10g"}
    assert gpu.inputs["capacityType"] == "SPOT" and gpu.inputs["instanceTypes"] == ["g5.xlarge", "g5.2xlarge"]
    assert gpu.inputs["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 0}
    assert system.inputs["capacityType"] == "ON_DEMAND" and system.inputs["scalingConfig"]["minSize"] == 1
    template = view.named("platform-dev-gpu-a10g-nodes-euw1-lt", TEMPLATE)
    assert gpu.inputs["launchTemplate"] == {"id": template.id, "version": "1"}
    assert "diskSize" not in gpu.inputs  # the launch template sizes the disk


def test_prod_gpu_pools_are_on_demand_and_scale_from_zero(plans):
    view = plans["platform-prod"]
    gpu = [g for g in view.of_type(GROUP) if g.inputs["amiType"] == "AL2023_x86_64_NVIDIA"]
    assert sorted(g.name for g in gpu) == [
        "platform-prod-gpu-serving-nodes-euw1", "platform-prod-gpu-serving-nodes-use1",
        "platform-prod-gpu-training-nodes-euw1", "platform-prod-gpu-training-nodes-use1"]
    assert {g.inputs["capacityType"] for g in gpu} == {"ON_DEMAND"}
    assert {g.inputs["scalingConfig"]["minSize"] for g in gpu} == {0}
    system = view.named("platform-prod-system-nodes-euw1", GROUP)
    assert system.inputs["scalingConfig"]["minSize"] == 3 and len(system.inputs["subnetIds"]) == 3


def test_scale_from_zero_tags_describe_gpu_nodes(plans):
    view = plans["platform-dev"]
    group = view.named("platform-dev-gpu-a10g-nodes-euw1", GROUP)
    tags = {t.inputs["tag"]["key"]: t for t in view.of_type(TAG) if "gpu-a10g" in t.name}
    template = "k8s.io/cluster-autoscaler/node-template"
    values = {k: t.inputs["tag"]["value"] for k, t in tags.items()}
    assert values == {
        f"{template}/label/ml-platform/pool": "gpu-a10g",
        f"{template}/label/ml-platform/capacity": "spot",
        f"{template}/label/ml-platform/accelerator": "nvidia-a10g",
        f"{template}/taint/nvidia.com/gpu": "true:NoSchedule",
        f"{template}/resources/nvidia.com/gpu": "4",   # one A10G, time-sliced four ways
    }
    asg = group.id.split(":")[1]
    assert {t.inputs["autoscalingGroupName"].startswith(f"eks-{asg}-") for t in tags.values()} == {True}
    assert {t.inputs["tag"]["propagateAtLaunch"] for t in tags.values()} == {False}
    training = {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in plans["platform-prod"].of_type(TAG)
                if "gpu-training-nodes-euw1" in t.name}
    assert training[f"{template}/resources/nvidia.com/gpu"] == "4"   # g6.12xlarge: four L4s


def test_cluster_autoscaler_is_pinned_scoped_and_under_irsa(plans):
    view = plans["platform-dev"]
    [deployment] = [d for d in view.of_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"]
                    == "cluster-autoscaler"]
    spec = deployment.inputs["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert container["image"] == versions.CLUSTER_AUTOSCALER_IMAGES[versions.KUBERNETES_VERSION]
    assert ("--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
            "k8s.io/cluster-autoscaler/platform-dev-eks-euw1") in container["command"]
    assert spec["nodeSelector"] == {GPU.pool_label: "system"} and spec["securityContext"]["runAsNonRoot"] is True
    [account] = [a for a in view.of_type("kubernetes:core/v1:ServiceAccount")
                 if a.inputs["metadata"]["name"] == "cluster-autoscaler"]
    role = view.named("platform-dev-cluster-autoscaler-euw1", "aws:iam/role:Role")
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role.inputs["name"] and
                                                         "arn:aws:iam::111111111111:role/platform-dev-cluster-autoscaler-euw1"}
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert ["system:serviceaccount:kube-system:cluster-autoscaler"] in trust.values()
    policy = json.loads(view.named("platform-dev-cluster-autoscaler-euw1-policy", "aws:iam/rolePolicy:RolePolicy")
                        .inputs["policy"])
    resize = next(s for s in policy["Statement"] if s["Sid"] == "ResizeOwnGroups")
    assert resize["Condition"] == {"StringEquals": {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/platform-dev-eks-euw1": "owned"}}
