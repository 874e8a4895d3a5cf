"""The EKS cluster of each platform region, as the example stacks plan it."""

import json
from pathlib import Path

import pytest

from infra import versions
from infra.components.cluster import LOG_TYPES

STACKS = Path(__file__).resolve().parents[2] / "stacks"
CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"


def test_one_cluster_per_region_in_private_subnets(plans):
    view = plans["platform-prod"]
    clusters = {c.name: c for c in view.of_type(CLUSTER)}
    assert sorted(clusters) == ["platform-prod-eks-euw1", "platform-prod-eks-use1"]
    cluster = clusters["platform-prod-eks-euw1"]
    private = {s.inputs["cidrBlock"] for s in view.of_type("aws:ec2/subnet:Subnet") if "private" in s.name
               and s.name.endswith(("euw1-0", "euw1-1", "euw1-2"))}
    subnets = [view.by_urn[u] for u in cluster.property_dependencies["vpcConfig"] if u in view.by_urn
               and view.by_urn[u].type == "aws:ec2/subnet:Subnet"]
    assert {s.inputs["cidrBlock"] for s in subnets} == private and len(subnets) == 3
    assert cluster.inputs["version"] == versions.KUBERNETES_VERSION


@pytest.mark.parametrize("stack", ["platform-dev", "platform-prod"])
def test_endpoint_private_secrets_encrypted_all_logs(plans, stack):
    view = plans[stack]
    for cluster in view.of_type(CLUSTER):
        vpc = cluster.inputs["vpcConfig"]
        assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
        assert "publicAccessCidrs" not in vpc
        region = cluster.name.rsplit("-", 1)[-1]
        key = view.named(f"{stack}-eks-{region}", "aws:kms/key:Key")
        assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
        assert key.urn in cluster.property_dependencies["encryptionConfig"]
        assert cluster.inputs["enabledClusterLogTypes"] == list(LOG_TYPES)
        assert cluster.inputs["accessConfig"] == {"authenticationMode": "API",
                                                  "bootstrapClusterCreatorAdminPermissions": False}
        group = view.named(f"{stack}-eks-logs-{region}", "aws:cloudwatch/logGroup:LogGroup")
        assert group.inputs["name"] == f"/aws/eks/{cluster.name}/cluster"
        assert group.inputs["retentionInDays"] == (365 if stack == "platform-prod" else 30)
        assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:") and group.urn in cluster.dependencies


def test_dev_endpoint_public_only_from_configured_cidrs(tmp_path):
    from platform_lib.config.loader import load_stack_file
    from platform_lib.plan.runner import plan_stack_file

    text = (STACKS / "Pulumi.platform-dev.yaml").read_text().replace(
        "  ml-platform:compute:\n", "  ml-platform:compute:\n    publicAccessCidrs: [34.240.0.0/16]\n")
    path = tmp_path / "Pulumi.platform-dev.yaml"
    path.write_text(text)
    plan = plan_stack_file(load_stack_file(path))
    assert plan.error is None and plan.exit_code == 0
    [cluster] = [r for r in plan.resources if r.type == CLUSTER]
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is True
    assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["34.240.0.0/16"]


def test_access_entries_give_ci_cluster_admin(plans):
    view = plans["platform-prod"]
    ci = view.named("platform-prod-ci-deploy", "aws:iam/role:Role")
    for region in ("euw1", "use1"):
        entry = view.named(f"platform-prod-eks-{region}-ci", "aws:eks/accessEntry:AccessEntry")
        assert entry.inputs["principalArn"] == "arn:aws:iam::222222222222:role/platform-prod-ci-deploy"
        assert ci.urn in entry.property_dependencies["principalArn"]
        policy = view.named(f"platform-prod-eks-{region}-ci-policy",
                            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        assert policy.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
        assert policy.inputs["accessScope"] == {"type": "cluster"}


def test_oidc_provider_and_ebs_csi_under_irsa(plans):
    view = plans["platform-dev"]
    cluster_outputs = view.plan.outputs["clusters"]["eu-west-1"]
    oidc = view.named("platform-dev-eks-oidc-euw1", "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["url"] == cluster_outputs["oidcIssuer"] and oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    role = view.named("platform-dev-ebs-csi-euw1", "aws:iam/role:Role")
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    host = cluster_outputs["oidcIssuer"].removeprefix("https://")
    assert statement["Principal"] == {"Federated": cluster_outputs["oidcProviderArn"]}
    assert statement["Condition"]["StringEquals"] == {
        f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]}
    assert role.inputs["permissionsBoundary"].endswith(":policy/platform-dev-workload-boundary")
    addon = view.named("platform-dev-eks-euw1-aws-ebs-csi-driver", ADDON)
    assert addon.inputs["serviceAccountRoleArn"] == "arn:aws:iam::111111111111:role/platform-dev-ebs-csi-euw1"


def test_addons_pinned_and_ordered_around_node_groups(plans):
    view = plans["platform-dev"]
    addons = {a.inputs["addonName"]: a for a in view.of_type(ADDON)}
    pinned = versions.ADDON_VERSIONS[versions.KUBERNETES_VERSION]
    assert {name: a.inputs["addonVersion"] for name, a in addons.items()} == pinned
    groups = {g.urn for g in view.of_type("aws:eks/nodeGroup:NodeGroup")}
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert groups <= set(addons[name].dependencies), name
    for group in view.of_type("aws:eks/nodeGroup:NodeGroup"):
        parent = view.by_urn[group.parent]
        assert {addons[n].urn for n in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")} <= set(parent.dependencies)


def test_kubernetes_provider_uses_aws_eks_get_token(plans):
    view = plans["platform-prod"]
    providers = {p.name: p for p in view.of_type("pulumi:providers:kubernetes")}
    kubeconfig = json.loads(providers["k8s-platform-prod-eks-use1"].inputs["kubeconfig"])
    outputs = view.plan.outputs["clusters"]["us-east-1"]
    assert kubeconfig["clusters"][0]["cluster"] == {"server": outputs["endpoint"],
                                                    "certificate-authority-data": outputs["certificateAuthority"]}
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "aws"
    assert kubeconfig["users"][0]["user"]["exec"]["args"] == [
        "eks", "get-token", "--cluster-name", "platform-prod-eks-use1", "--region", "us-east-1", "--output", "json"]
    in_cluster = [r for r in view.resources if r.type.startswith("kubernetes:")]
    assert in_cluster and all(r.provider and "pulumi:providers:kubernetes" in r.provider for r in in_cluster)


def test_contract_exports_each_cluster(plans):
    from platform_lib.contract import PlatformOutputs

    outputs = PlatformOutputs.model_validate(plans["platform-prod"].plan.outputs)
    assert sorted(outputs.clusters) == ["eu-west-1", "us-east-1"]
    cluster = outputs.clusters["us-east-1"]
    assert cluster.name == "platform-prod-eks-use1" and cluster.vpc_cidr == "10.21.0.0/16"
    assert cluster.endpoint.startswith("https://") and cluster.endpoint.endswith(".us-east-1.eks.amazonaws.com")
    assert cluster.oidc_provider_arn.endswith(cluster.oidc_issuer.removeprefix("https://"))


def test_in_cluster_objects_wait_for_nodes_and_admin_access(plans):
    view = plans["platform-dev"]
    access = {a.urn for a in view.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")}
    nodes = {g.urn for g in view.of_type("aws:eks/nodeGroup:NodeGroup")}
    for name in ("platform-dev-autoscaler-euw1", "platform-dev-gpu-euw1"):
        component = next(r for r in view.resources if r.name == name)
        assert access | nodes <= set(component.dependencies), name
