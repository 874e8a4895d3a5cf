"""Issue 12 items 3-4: a model served on Kubernetes behind the same routing as a SageMaker model. Its
regional door (ServiceDoor: internal NLB, `ip` target group, VPC link, security groups, TargetGroupBinding)
alone and under a ModelRoute; the doors of both kinds differ only in their integrations; the clusters'
load balancer controller may touch only this environment's target groups; vision-prod plans it all."""

from __future__ import annotations

import json
import re
from collections import Counter

import pulumi_kubernetes as k8s
import pytest

from infra.components.lb_controller import (
    LoadBalancerController,
    LoadBalancerControllerArgs,
    chart_values,
    controller_document,
)
from infra.components.routing import ModelRoute, ModelRouteArgs, RegionalDoor, SageMakerBackend, ServiceBackend
from infra.components.service_door import ServiceDoor, ServiceDoorArgs, elb_name
from infra.naming import Names, region_code
from tests.infra.iam_eval import allowed

ZONE = "Z0123456789ABCDEFGHIJ"
HOST = "defects.fraud-dev.ml.example.com"
LOGS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs-euw1"
BOUNDARY = "arn:aws:iam::123456789012:policy/platform-dev-workload-boundary"
NODE_SG = "sg-0nodes"
SUBNETS = ["subnet-0a", "subnet-0b"]
NLB = "aws:lb/loadBalancer:LoadBalancer"
BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"


def routed(component, names, backend: str = "service"):
    """A ModelRoute of `defects` in eu-west-1 in front of a ServiceDoor (or of a SageMaker endpoint)."""
    def build(providers):
        provider = providers["eu-west-1"]
        if backend == "service":
            kubernetes = k8s.Provider("k8s-euw1", kubeconfig="{}")
            door = ServiceDoor("door", ServiceDoorArgs(names, "eu-west-1", "defects", "fraud", "vpc-0main", SUBNETS,
                                                       NODE_SG), provider, kubernetes)
            chosen: SageMakerBackend | ServiceBackend = ServiceBackend(
                door.vpc_link.id, door.load_balancer.arn, door.load_balancer.dns_name)
        else:
            chosen = SageMakerBackend("fraud-dev-defects-euw1")
        ModelRoute("route", ModelRouteArgs(names, "defects", HOST, ZONE,
                                           {"eu-west-1": RegionalDoor(chosen, LOGS_KEY, provider)}, BOUNDARY, 30))
    return component(build, regions=("eu-west-1",))


def test_internal_nlb_with_ip_targets_health_checked_on_ping(component, team_names):
    view = routed(component, team_names)
    nlb = view.named("fraud-dev-defects-nlb-euw1", NLB).inputs
    assert (nlb["name"], nlb["loadBalancerType"], nlb["internal"]) == ("fraud-dev-defects-euw1", "network", True)
    assert nlb["subnets"] == SUBNETS and nlb["enableCrossZoneLoadBalancing"] is True
    targets = view.named("fraud-dev-defects-targets-euw1").inputs
    assert (targets["targetType"], targets["protocol"], targets["port"], targets["vpcId"]) == (
        "ip", "TCP", 8080, "vpc-0main")
    assert targets["healthCheck"] == {"protocol": "HTTP", "path": "/ping", "port": "traffic-port", "matcher": "200",
                                      "interval": 10, "timeout": 5, "healthyThreshold": 2, "unhealthyThreshold": 2}
    assert targets["deregistrationDelay"] == 30   # the serving contract's drain after SIGTERM
    listener = view.named("fraud-dev-defects-listener-euw1").inputs
    target_group = view.named("fraud-dev-defects-targets-euw1")
    assert (listener["port"], listener["protocol"]) == (80, "TCP")
    assert listener["defaultActions"] == [{"type": "forward", "targetGroupArn": target_group.id}]


def test_security_groups_let_only_the_vpc_link_in_and_the_nlb_reach_only_the_pods_port(component, team_names):
    view = routed(component, team_names)
    link_sg = view.named("fraud-dev-defects-link-sg-euw1", "aws:ec2/securityGroup:SecurityGroup")
    nlb_sg = view.named("fraud-dev-defects-nlb-sg-euw1", "aws:ec2/securityGroup:SecurityGroup")
    for group in (link_sg, nlb_sg):   # no inline rules: the provider drops AWS's default allow-all egress
        assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert nlb_sg.inputs["tags"] == {"ml-platform/purpose": "load-balancer"}
    rules = {(r.type.rsplit(":", 1)[1], r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"],
              r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"])
             for r in view.resources if r.type.startswith("aws:vpc/securityGroup")}
    link, lb = link_sg.id, nlb_sg.id
    assert rules == {("SecurityGroupEgressRule", link, lb, 80, 80, "tcp"),
                     ("SecurityGroupIngressRule", lb, link, 80, 80, "tcp"),
                     ("SecurityGroupEgressRule", lb, NODE_SG, 8080, 8080, "tcp"),
                     ("SecurityGroupIngressRule", NODE_SG, lb, 8080, 8080, "tcp")}
    assert not any("cidrIpv4" in r.inputs for r in view.resources if r.type.startswith("aws:vpc/"))
    vpc_link = view.named("fraud-dev-defects-link-euw1", "aws:apigatewayv2/vpcLink:VpcLink").inputs
    assert vpc_link["subnetIds"] == SUBNETS and vpc_link["securityGroupIds"] == [link]


def test_target_group_binding_points_the_service_at_the_target_group(component, team_names):
    view = routed(component, team_names)
    [binding] = view.of_type(BINDING)
    target_group = view.named("fraud-dev-defects-targets-euw1")
    assert binding.inputs["metadata"]["name"] == "defects" and binding.inputs["metadata"]["namespace"] == "fraud"
    assert binding.inputs["spec"] == {"serviceRef": {"name": "defects", "port": 80}, "targetType": "ip",
                                      "targetGroupARN": target_group.id, "ipAddressType": "ipv4"}
    listener = view.named("fraud-dev-defects-listener-euw1")
    assert listener.urn in binding.dependencies   # targets registered once traffic can flow


def test_door_proxies_invocations_with_iam_auth_and_answers_ping_from_the_pods(component, team_names):
    view = routed(component, team_names)
    nlb = view.named("fraud-dev-defects-nlb-euw1", NLB).id          # the provider's id is the ARN
    link = view.named("fraud-dev-defects-link-euw1", "aws:apigatewayv2/vpcLink:VpcLink").id
    host = re.compile(r"^http://fraud-dev-defects-euw1-\w+\.elb\.eu-west-1\.amazonaws\.com/")
    invoke = view.named("fraud-dev-defects-api-invoke-euw1", "aws:apigateway/method:Method").inputs
    assert (invoke["httpMethod"], invoke["authorization"]) == ("POST", "AWS_IAM")
    integration = view.named("fraud-dev-defects-api-invoke-integration-euw1").inputs
    assert {k: integration[k] for k in ("type", "connectionType", "connectionId", "integrationTarget",
                                        "integrationHttpMethod")} == {
        "type": "HTTP_PROXY", "connectionType": "VPC_LINK", "connectionId": link, "integrationTarget": nlb,
        "integrationHttpMethod": "POST"}
    assert host.match(integration["uri"]) and integration["uri"].endswith("/invocations")
    assert "credentials" not in integration
    ping = view.named("fraud-dev-defects-api-ping-integration-euw1").inputs
    assert (ping["type"], ping["integrationHttpMethod"], ping["connectionId"], ping["integrationTarget"]) == (
        "HTTP", "GET", link, nlb)
    assert host.match(ping["uri"]) and ping["uri"].endswith("/ping")
    assert ping["passthroughBehavior"] == "WHEN_NO_MATCH" and "requestTemplates" not in ping
    ok = view.named("fraud-dev-defects-api-ping-200-mapping-euw1").inputs
    assert json.loads(ok["responseTemplates"]["application/json"]) == {"status": "InService", "region": "eu-west-1"}
    assert view.named("fraud-dev-defects-api-ping-503-mapping-euw1").inputs["selectionPattern"] == r"5\d{2}"
    check = view.named("fraud-dev-defects-ping-check-euw1").inputs
    assert (check["type"], check["resourcePath"], check["searchString"]) == ("HTTPS_STR_MATCH", "/live/ping",
                                                                             "InService")
    assert not view.of_type("aws:iam/role:Role")   # a VPC link needs no role


def test_sagemaker_and_kubernetes_doors_differ_only_in_their_integrations(component, team_names):
    def door_types(view):
        route = {r.urn for r in view.resources if r.type == "ml-platform:serving:ModelRoute"}
        doors = {r.urn for r in view.resources if r.parent in route}
        return Counter(r.type for r in view.resources if r.parent in doors | route)

    service, sagemaker = door_types(routed(component, team_names)), door_types(routed(component, team_names, "sm"))
    difference = (sagemaker - service) + (service - sagemaker)
    # SageMaker's role and its policy, and the mapped answers of /invocations (a proxy passes them through)
    assert difference == Counter({"aws:iam/role:Role": 1, "aws:iam/rolePolicy:RolePolicy": 1,
                                  "aws:apigateway/methodResponse:MethodResponse": 3,
                                  "aws:apigateway/integrationResponse:IntegrationResponse": 3})


def test_elb_names_fit_32_characters_and_keep_the_environment_prefix():
    names = Names("vision", "prod", "222222222222")
    assert elb_name(names, "defects", "eu-west-1") == "vision-prod-defects-euw1"
    long = elb_name(names, "surface-defects-detector-v2", "ap-southeast-2")
    assert len(long) <= 32 and long.startswith("vision-prod-surface") and long.endswith("-apse2")
    assert long != elb_name(names, "surface-defects-detector-v3", "ap-southeast-2")
    longest = Names("abcdefghijklmnopqrst", "staging", "222222222222")   # the longest team the schema accepts
    cut = elb_name(longest, "abcdefghijklmnopqrstuvwx", "ap-southeast-7")
    assert len(cut) <= 32 and "-staging-" in cut and cut.startswith("abcdefghij") and cut.endswith("-apse7")
    assert cut != elb_name(longest, "abcdefghijklmnopqrstuvwy", "ap-southeast-7")


def test_controller_may_only_touch_this_environments_target_groups(platform_names):
    document = controller_document(platform_names, "eu-west-1")
    describe, targets = document["Statement"]
    assert describe["Resource"] == "*" and all(":Describe" in a for a in describe["Action"])
    assert targets["Resource"] == "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/*-prod-*/*"
    own = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/vision-prod-defects-euw1/0a1b"
    assert allowed(document["Statement"], "elasticloadbalancing:RegisterTargets", own)
    for arn in ("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/vision-dev-defects-euw1/0a1b",
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/vision-prod-defects-use1/0a1b"):
        assert not allowed(document["Statement"], "elasticloadbalancing:RegisterTargets", arn)
    for action in ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup",
                   "elasticloadbalancing:DeleteLoadBalancer", "ec2:AuthorizeSecurityGroupIngress",
                   "elasticloadbalancing:ModifyListener"):
        assert not allowed(document["Statement"], action, "*"), action


def test_controller_release_is_pinned_and_runs_target_group_bindings_only(component, platform_names):
    def build(providers):
        LoadBalancerController("lbc", LoadBalancerControllerArgs(
            platform_names, "eu-west-1", "platform-prod-eks-euw1", "vpc-0main", "system",
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", BOUNDARY),
            providers["eu-west-1"], k8s.Provider("k8s", kubeconfig="{}"))
    view = component(build)
    [release] = view.of_type("kubernetes:helm.sh/v3:Release")
    inputs = release.inputs
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (
        "aws-load-balancer-controller", "3.5.0", "kube-system")
    assert inputs["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    role = view.named("platform-prod-lb-controller-euw1", "aws:iam/role:Role")
    assert inputs["values"] == chart_values("platform-prod-eks-euw1", "eu-west-1", "vpc-0main",
                                            "arn:aws:iam::123456789012:role/platform-prod-lb-controller-euw1",
                                            "system")
    values = inputs["values"]
    assert values["controllerConfig"] == {"featureGates": {"EnableServiceController": False}}
    assert not values["createIngressClassResource"] and not values["enableServiceMutatorWebhook"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert trust["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"] == [
        "system:serviceaccount:kube-system:aws-load-balancer-controller"]
    assert role.inputs["permissionsBoundary"] == BOUNDARY


def test_workload_boundary_admits_what_the_controller_does(plans):
    view = plans["platform-prod"]
    boundary = view.document(view.named("platform-prod-workload-boundary", "aws:iam/policy:Policy"))["Statement"]
    for region in ("eu-west-1", "us-east-1"):
        document = view.document(view.named(f"platform-prod-lb-controller-{region_code(region)}-policy"))
        target = f"arn:aws:elasticloadbalancing:{region}:222222222222:targetgroup/vision-prod-defects-x/0a1b"
        for statement in document["Statement"]:
            for action in statement["Action"]:
                resource = "*" if statement["Resource"] == "*" else target
                assert allowed(boundary, action, resource) and allowed(document["Statement"], action, resource)


@pytest.mark.parametrize("region", ["euw1", "use1"])
def test_vision_prod_routes_its_kubernetes_model_through_a_door_per_region(plans, region):
    view = plans["vision-prod"]
    assert view.plan.outputs["hostnames"] == {"defects": "defects.vision.ml.example.com"}
    nlb = view.named(f"vision-prod-defects-nlb-{region}", NLB).inputs
    assert nlb["internal"] is True and nlb["loadBalancerType"] == "network"
    subnets = plans["platform-prod"].plan.outputs["networks"][
        {"euw1": "eu-west-1", "use1": "us-east-1"}[region]]["privateSubnetIds"]
    assert nlb["subnets"] == subnets
    node_group = plans["platform-prod"].plan.outputs["clusters"][
        {"euw1": "eu-west-1", "use1": "us-east-1"}[region]]["nodeSecurityGroupId"]
    pods_in = view.named(f"vision-prod-defects-pods-in-{region}").inputs
    assert pods_in["securityGroupId"] == node_group and pods_in["fromPort"] == 8080
    record = view.named(f"vision-prod-defects-route-{region}", "aws:route53/record:Record").inputs
    assert record["name"] == "defects.vision.ml.example.com" and record["setIdentifier"]
    binding = view.named(f"vision-prod-defects-binding-{region}", BINDING)
    service = view.named(f"vision-prod-defects-k8s-{region}-service", "kubernetes:core/v1:Service")
    assert binding.inputs["spec"]["serviceRef"]["name"] == service.inputs["metadata"]["name"]


def test_no_hosted_zone_no_door(plans):
    assert not plans["vision-dev"].of_type(NLB) and not plans["vision-dev"].of_type(BINDING)


def test_a_platform_without_node_security_groups_is_a_contract_error(plans):
    from infra.stacks.team import _node_security_group
    from platform_lib.contract import ContractError, PlatformOutputs

    outputs = json.loads(json.dumps(plans["platform-prod"].plan.outputs))
    for cluster in outputs["clusters"].values():
        del cluster["nodeSecurityGroupId"]            # a platform deployed before the doors existed
    platform = PlatformOutputs.model_validate(outputs)
    with pytest.raises(ContractError, match="exports no nodeSecurityGroupId .* run its `pulumi up` first"):
        _node_security_group("eu-west-1", platform)


def test_controller_policy_has_no_linter_findings(platform_names):
    from tests.policies.test_policy_iam_lint import _analyze  # parliament with its community auditors

    assert _analyze(json.dumps(controller_document(platform_names, "eu-west-1")), True) == []
