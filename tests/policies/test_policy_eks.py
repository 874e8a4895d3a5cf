"""EKS and launch-template rules: compliant, non-compliant and unknown inputs."""

from __future__ import annotations

import pytest

from policies.rules.eks_control_plane_logging import RULE as LOGGING
from policies.rules.eks_endpoint_not_public import RULE as ENDPOINT
from policies.rules.eks_gpu_instance_families_allowed import RULE as GPU_FAMILIES
from policies.rules.eks_kubernetes_version_supported import RULE as VERSION
from policies.rules.eks_secrets_encrypted import RULE as SECRETS
from policies.rules.launch_template_imdsv2_encrypted import RULE as LAUNCH_TEMPLATE

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e"
PRIVATE = {"endpointPrivateAccess": True, "endpointPublicAccess": False, "subnetIds": ["subnet-1"]}


def cluster(**vpc):
    return {"name": "platform-prod-eks-euw1", "vpcConfig": {**PRIVATE, **vpc}}


# -- endpoint ------------------------------------------------------------------------------------

def test_private_endpoint_is_compliant(kit):
    assert kit.run(ENDPOINT, kit.args(CLUSTER, cluster())) == []


@pytest.mark.parametrize("vpc", [{"endpointPublicAccess": True}, {"endpointPublicAccess": None},
                                 {"endpointPublicAccess": True, "publicAccessCidrs": ["34.240.0.0/16"]}])
def test_public_endpoint_is_reported_without_an_allowance(kit, vpc):
    props = cluster(**vpc)
    if vpc["endpointPublicAccess"] is None:
        del props["vpcConfig"]["endpointPublicAccess"]  # AWS's default is public
    [(message, _)] = kit.run(ENDPOINT, kit.args(CLUSTER, props))
    assert "EKS cluster 'platform-prod-eks-euw1' has a public API endpoint" in message


def test_dev_allowance_needs_named_cidrs_and_never_covers_prod(kit):
    allowed = {"allowPublicEndpoint": True}
    named = cluster(endpointPublicAccess=True, publicAccessCidrs=["34.240.0.0/16"])
    assert kit.run(ENDPOINT, kit.args(CLUSTER, named, config=allowed)) == []
    [(message, _)] = kit.run(ENDPOINT, kit.args(CLUSTER, cluster(endpointPublicAccess=True,
                                                                 publicAccessCidrs=["0.0.0.0/0"]), config=allowed))
    assert "open to the internet" in message
    prod = kit.provider({**kit.default_tags, "env": "prod"})
    assert len(kit.run(ENDPOINT, kit.args(CLUSTER, named, config=allowed, provider=prod))) == 1


def test_unknown_public_access_is_not_a_violation(kit):
    assert kit.run(ENDPOINT, kit.args(CLUSTER, cluster(endpointPublicAccess=kit.unknown_bool))) == []


# -- secrets, logs, version ---------------------------------------------------------------------

def test_secrets_encryption(kit):
    good = {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}}}
    assert kit.run(SECRETS, kit.args(CLUSTER, good)) == []
    assert kit.run(SECRETS, kit.args(CLUSTER, {"encryptionConfig": {"resources": ["secrets"],
                                                                    "provider": {"keyArn": kit.unknown}}})) == []
    for bad in ({}, {"encryptionConfig": {"resources": [], "provider": {"keyArn": KEY}}}):
        [(message, _)] = kit.run(SECRETS, kit.args(CLUSTER, {"name": "c1", **bad}))
        assert "EKS cluster 'c1' does not encrypt Kubernetes secrets" in message


def test_all_control_plane_log_types(kit):
    every = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert kit.run(LOGGING, kit.args(CLUSTER, {"enabledClusterLogTypes": every})) == []
    [(message, _)] = kit.run(LOGGING, kit.args(CLUSTER, {"name": "c1", "enabledClusterLogTypes": ["api", "audit"]}))
    assert "does not log authenticator, controllerManager, scheduler" in message
    assert len(kit.run(LOGGING, kit.args(CLUSTER, {"name": "c1"}))) == 1


def test_kubernetes_version_window(kit):
    assert kit.run(VERSION, kit.args(CLUSTER, {"name": "c1", "version": "1.32"})) == []
    [(message, _)] = kit.run(VERSION, kit.args(CLUSTER, {"name": "c1", "version": "1.27"}))
    assert "EKS cluster 'c1' runs Kubernetes 1.27; supported: 1.31, 1.32, 1.33" in message
    [(message, _)] = kit.run(VERSION, kit.args(CLUSTER, {"name": "c1"}))
    assert "has no version" in message
    assert kit.run(VERSION, kit.args(NODE_GROUP, {"nodeGroupName": "g"})) == []   # follows its cluster
    assert len(kit.run(VERSION, kit.args(NODE_GROUP, {"nodeGroupName": "g", "version": "1.28"}))) == 1
    assert kit.run(VERSION, kit.args(CLUSTER, {"version": "1.28"}, config={"supportedVersions": ["1.28"]})) == []


# -- launch templates ---------------------------------------------------------------------------

def template(tokens="required", encrypted="true"):
    return {"name": "nodes", "metadataOptions": {"httpTokens": tokens, "httpPutResponseHopLimit": 1},
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": encrypted, "kmsKeyId": KEY}}]}


def test_imdsv2_and_encrypted_volumes_are_compliant(kit):
    assert kit.run(LAUNCH_TEMPLATE, kit.args(TEMPLATE, template())) == []
    assert kit.run(LAUNCH_TEMPLATE, kit.args(TEMPLATE, template(encrypted=True))) == []


@pytest.mark.parametrize("props, expected", [
    (template(tokens="optional"), "allows IMDSv1 (metadataOptions.httpTokens=optional)"),
    ({"name": "nodes"}, "allows IMDSv1 (metadataOptions.httpTokens=unset)"),
    (template(encrypted="false"), "volume /dev/xvda is not encrypted"),
])
def test_imdsv1_or_plain_volumes_are_reported(kit, props, expected):
    [(message, _)] = kit.run(LAUNCH_TEMPLATE, kit.args(TEMPLATE, props))
    assert f"launch template 'nodes' {expected}" in message


def test_unknown_metadata_options_are_not_violations(kit):
    assert kit.run(LAUNCH_TEMPLATE, kit.args(TEMPLATE, template(tokens=kit.unknown))) == []


# -- GPU families --------------------------------------------------------------------------------

def test_gpu_families_per_environment(kit):
    group = {"nodeGroupName": "gpu", "instanceTypes": ["g5.xlarge", "m6i.large"]}
    assert kit.run(GPU_FAMILIES, kit.args(NODE_GROUP, group)) == []
    big = {"nodeGroupName": "gpu", "instanceTypes": ["p5.48xlarge"]}
    [(message, _)] = kit.run(GPU_FAMILIES, kit.args(NODE_GROUP, big))
    assert "'gpu' uses GPU instance families ['p5'] not allowed in this environment; allowed: g4dn, g5, g6" in message
    assert kit.run(GPU_FAMILIES, kit.args(NODE_GROUP, big, config={"allowedGpuFamilies": ["g5", "p5"]})) == []
    assert len(kit.run(GPU_FAMILIES, kit.args(TEMPLATE, {"name": "t", "instanceType": "p4d.24xlarge"}))) == 1
