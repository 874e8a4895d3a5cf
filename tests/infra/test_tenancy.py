"""Team tenancy in the team stack: namespace, quota, limits, network policies, IRSA, namespace access."""

import json

import pytest

from infra.stacks.team import _check
from platform_lib.contract import ContractError, PlatformOutputs


def objects(view, kind):
    return [r for r in view.resources if r.type.endswith(f":{kind}")]


def test_namespace_with_quota_in_every_region_of_the_team(plans):
    view = plans["fraud-prod"]
    namespaces = objects(view, "Namespace")
    assert len(namespaces) == 2 and {n.inputs["metadata"]["name"] for n in namespaces} == {"fraud"}
    assert namespaces[0].inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    quotas = objects(view, "ResourceQuota")
    assert len(quotas) == 2
    assert quotas[0].inputs["spec"]["hard"] == {"requests.cpu": "64", "requests.memory": "256Gi",
                                                "limits.memory": "256Gi", "requests.nvidia.com/gpu": "8"}
    dev_quota = objects(plans["fraud-dev"], "ResourceQuota")[0]
    assert dev_quota.inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "2"
    assert len(objects(view, "LimitRange")) == 2


def test_team_objects_reach_the_platform_cluster_of_their_region(plans):
    view = plans["fraud-prod"]
    platform = plans["platform-prod"].plan.outputs["clusters"]
    for provider in view.of_type("pulumi:providers:kubernetes"):
        kubeconfig = json.loads(provider.inputs["kubeconfig"])
        region = kubeconfig["users"][0]["user"]["exec"]["args"][5]
        assert kubeconfig["clusters"][0]["cluster"]["server"] == platform[region]["endpoint"]


def test_default_deny_with_dns_namespace_and_endpoint_allows(plans):
    view = plans["fraud-prod"]
    policies = {(p.inputs["metadata"]["name"], p.name.split("-")[3]): p.inputs["spec"]
                for p in objects(view, "NetworkPolicy")}
    assert policies[("default-deny", "euw1")] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies[("allow-dns", "use1")]["egress"][0]
    assert {"protocol": "UDP", "port": 53} in dns["ports"]
    endpoints = policies[("allow-aws-endpoints", "use1")]["egress"][0]
    assert endpoints["ports"] == [{"protocol": "TCP", "port": 443}]
    assert endpoints["to"][0] == {"ipBlock": {"cidr": "10.21.0.0/16"}}   # the us-east-1 VPC


def test_service_account_assumes_team_workload_role_only_for_team_data(plans):
    view = plans["fraud-prod"]
    role = view.named("fraud-prod-k8s-workload", "aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == "arn:aws:iam::222222222222:policy/platform-prod-workload-boundary"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    clusters = plans["platform-prod"].plan.outputs["clusters"].values()
    issuers = {c["oidcIssuer"].removeprefix("https://") for c in clusters}
    assert {s["Principal"]["Federated"].split("oidc-provider/")[1] for s in trust} == issuers
    assert all(list(s["Condition"]["StringEquals"].values())[1] == ["system:serviceaccount:fraud:fraud-workload"]
               for s in trust)
    policy = json.loads(view.named("fraud-prod-k8s-workload-policy", "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    buckets = next(s for s in policy["Statement"] if s["Sid"] == "TeamBuckets")["Resource"]
    assert buckets and all(b.startswith("arn:aws:s3:::fraud-prod-") for b in buckets)
    keys = next(s for s in policy["Statement"] if s["Sid"] == "TeamKeys")["Resource"]
    assert keys and all(":key/" in k for k in keys)
    for account in objects(view, "ServiceAccount"):
        assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role.inputs["name"] and
                                                             "arn:aws:iam::222222222222:role/fraud-prod-k8s-workload"}
    assert view.plan.outputs["namespace"] == "fraud"
    assert view.plan.outputs["workloadRoleArn"] == "arn:aws:iam::222222222222:role/fraud-prod-k8s-workload"


def test_team_people_get_edit_rights_in_their_namespace_only(plans):
    associations = [r for r in plans["vision-prod"].resources if r.type.endswith("AccessPolicyAssociation")]
    assert associations, "vision-prod names an access role"
    for association in associations:
        assert association.inputs["policyArn"].endswith("/AmazonEKSEditPolicy")
        assert association.inputs["accessScope"] == {"type": "namespace", "namespaces": ["vision"]}


def test_platform_without_a_cluster_in_the_team_region_is_a_contract_error(plans):
    from pathlib import Path

    from platform_lib.config.loader import load_stack_file

    team = load_stack_file(Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.fraud-prod.yaml").team
    outputs = dict(plans["platform-prod"].plan.outputs)
    assert _check(PlatformOutputs.model_validate(outputs), team, "platform-prod") is not None
    outputs["clusters"] = {"eu-west-1": outputs["clusters"]["eu-west-1"]}
    with pytest.raises(ContractError, match=r"exports no cluster for region\(s\) \['us-east-1'\]"):
        _check(PlatformOutputs.model_validate(outputs), team, "platform-prod")
