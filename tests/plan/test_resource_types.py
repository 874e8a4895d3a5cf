"""The one registry of resource types (`policies/resource_types.py`) and everything that reads it."""

import json
import re
from pathlib import Path

import pulumi
import pulumi_aws
import pytest

from platform_lib.plan import mocks as plan_mocks
from platform_lib.plan.collisions import find_collisions
from platform_lib.plan.mocks import PlanMocks
from policies.resource_types import RESOURCE_TYPES, named_types, stateful_types, warm_up_modules


def _pulumi_aws_classes() -> dict[str, str]:
    """Every resource token pulumi-aws registers, with its Python module (from the package's own table)."""
    source = Path(pulumi_aws.__file__).read_text()
    found = re.search(r'resource_modules="""(.*?)"""', source, re.S)
    assert found, "pulumi_aws no longer registers its resource modules as before"
    table = json.loads(found.group(1))
    return {token: entry["fqn"] for entry in table for token in entry["classes"]}


def test_every_registered_type_exists_in_pulumi_aws_under_its_module():
    classes = _pulumi_aws_classes()
    for token, facts in RESOURCE_TYPES.items():
        assert classes.get(token) == f"pulumi_aws.{facts.module}", token


def test_registry_lists_exactly_the_types_the_blueprint_creates(plans):
    created = {r.type for view in plans.values() for r in view.resources
               if r.custom and not r.read and r.type.startswith("aws:")}
    assert {token for token, facts in RESOURCE_TYPES.items() if facts.in_blueprint} == created


def test_warm_up_imports_the_modules_of_the_blueprints_types():
    assert warm_up_modules("aws") == [
        "acm", "apigateway", "apigatewayv2", "appautoscaling", "athena", "autoscaling", "budgets", "cfg",
        "cloudtrail", "cloudwatch", "ebs", "ec2", "ecr", "eks", "glue", "guardduty", "iam", "kms", "lb", "route53",
        "s3", "sagemaker", "scheduler", "sns", "vpc",
    ]
    assert all(hasattr(pulumi_aws, module) for module in warm_up_modules("aws"))


def test_protection_rule_and_collision_check_read_the_registry():
    from policies.rules.prod_stateful_resources_protected import RULE

    assert set(RULE.resource_types or ()) == stateful_types()
    assert {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:ecr/repository:Repository"} <= stateful_types()
    assert "aws:iam/role:Role" not in stateful_types()
    assert {token: (t.physical_name, t.name_scope) for token, t in named_types().items()} == {
        "aws:s3/bucket:Bucket": ("bucket", "global"),
        "aws:kms/alias:Alias": ("name", "region"),
        "aws:iam/role:Role": ("name", "account"),
        "aws:iam/policy:Policy": ("name", "account"),
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url", "account"),
        "aws:cloudwatch/logGroup:LogGroup": ("name", "region"),
        "aws:cloudtrail/trail:Trail": ("name", "region"),
        "aws:cfg/recorder:Recorder": ("name", "region"),
        "aws:cfg/deliveryChannel:DeliveryChannel": ("name", "region"),
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("modelPackageGroupName", "region"),
        "aws:sagemaker/modelCard:ModelCard": ("modelCardName", "region"),
        "aws:ecr/repository:Repository": ("name", "region"),
        "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": ("trackingServerName", "region"),
        "aws:sns/topic:Topic": ("name", "region"),
        "aws:cloudwatch/dashboard:Dashboard": ("dashboardName", "account"),
        "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", "region"),
        "aws:cloudwatch/eventRule:EventRule": ("name", "region"),
        "aws:budgets/budget:Budget": ("name", "account"),
        "aws:sagemaker/featureGroup:FeatureGroup": ("featureGroupName", "region"),
        "aws:glue/catalogDatabase:CatalogDatabase": ("name", "region"),
        "aws:glue/crawler:Crawler": ("name", "region"),
        "aws:athena/workgroup:Workgroup": ("name", "region"),
        "aws:eks/cluster:Cluster": ("name", "region"),
        "aws:eks/nodeGroup:NodeGroup": ("nodeGroupName", "region"),
        "aws:ec2/launchTemplate:LaunchTemplate": ("name", "region"),
        "aws:sagemaker/endpoint:Endpoint": ("name", "region"),
        "aws:sagemaker/pipeline:Pipeline": ("pipelineName", "region"),
        "aws:scheduler/schedule:Schedule": ("name", "region"),
        "aws:apigateway/domainName:DomainName": ("domainName", "region"),
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": ("name", "region"),
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("name", "region"),
        "aws:lb/loadBalancer:LoadBalancer": ("name", "region"),
        "aws:lb/targetGroup:TargetGroup": ("name", "region"),
    }


def test_a_type_added_to_the_registry_is_checked_for_collisions(monkeypatch):
    from platform_lib.plan.capture import CapturedResource
    from policies import resource_types

    token = "aws:ecr/repository:Repository"
    facts = resource_types.ResourceType(token, physical_name="name", name_scope="region", stateful=True)
    monkeypatch.setattr(resource_types, "RESOURCE_TYPES", {**RESOURCE_TYPES, token: facts})
    provider = CapturedResource("pulumi:providers:aws", "aws", "urn:p", None, None, True,
                                {"allowedAccountIds": '["111111111111"]', "region": "eu-west-1"})
    repo = CapturedResource(token, "repo", "urn:r", None, "urn:p", True, {"name": "models"})
    [collision] = find_collisions({"a": [provider, repo], "b": [provider, repo]})
    assert (collision.type, collision.name, collision.scope) == (token, "models", "account 111111111111, eu-west-1")


def answer(token, name, inputs, provider=None):
    return PlanMocks().new_resource(pulumi.runtime.MockResourceArgs(
        typ=token, name=name, inputs=inputs, provider=provider, resource_id=None, custom=True))


@pytest.mark.parametrize("token, name, inputs, expected_id, expected", [
    ("aws:s3/bucket:Bucket", "raw", {"bucket": "team-raw"}, "team-raw", {
        "arn": "arn:aws:s3:::team-raw", "bucket": "team-raw", "region": "us-east-1",
        "bucketRegionalDomainName": "team-raw.s3.us-east-1.amazonaws.com"}),
    ("aws:iam/role:Role", "exec", {"name": "team-exec"}, "team-exec", {
        "arn": "arn:aws:iam::123456789012:role/team-exec", "name": "team-exec"}),
    ("aws:iam/policy:Policy", "p", {"name": "team-p"}, "arn:aws:iam::123456789012:policy/team-p", {
        "arn": "arn:aws:iam::123456789012:policy/team-p"}),
    ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "gh",
     {"url": "https://token.actions.githubusercontent.com"},
     "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", {}),
    ("aws:cloudwatch/logGroup:LogGroup", "flow", {"name": "/vpc/flow"}, "/vpc/flow", {
        "arn": "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow"}),
    ("aws:kms/alias:Alias", "a", {"name": "alias/team"}, "alias/team", {
        "arn": "arn:aws:kms:us-east-1:123456789012:alias/alias/team"}),
])
def test_mocks_answer_from_the_registry(token, name, inputs, expected_id, expected):
    resource_id, state = answer(token, name, inputs)
    assert resource_id == expected_id and state["id"] == expected_id
    assert {key: state[key] for key in expected} == expected


def test_mocks_ec2_ids_kms_keys_and_unnamed_resources():
    vpc_id, vpc = answer("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16"})
    assert re.fullmatch(r"vpc-0[0-9a-f]{17}", vpc_id)
    assert vpc["arn"] == f"arn:aws:ec2:us-east-1:123456789012:vpc/{vpc_id}"
    key_id, key = answer("aws:kms/key:Key", "data", {})
    assert key["keyId"] == key_id and key["arn"] == f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    assert answer("aws:kms/key:Key", "data", {})[0] == key_id  # deterministic
    role_id, role = answer("aws:iam/role:Role", "exec", {})
    assert re.fullmatch(r"exec-[0-9a-f]{7}", role_id) and role["uniqueId"] == "AROA" + role["uniqueId"][4:].upper()


def test_mocks_answer_only_invokes_the_program_calls():
    assert list(plan_mocks._INVOKES) == ["aws:index/getAvailabilityZones:getAvailabilityZones",
                                         "aws:ec2/getPrefixList:getPrefixList"]   # tenancy's S3 prefix list


def test_kubernetes_objects_get_their_name_and_namespace_as_id():
    resource_id, state = answer("kubernetes:core/v1:ConfigMap", "cm", {"metadata": {"namespace": "team"}})
    assert resource_id == "team/cm"
    assert state["metadata"]["name"] == "cm" and re.fullmatch(r"[0-9a-f-]{36}", state["metadata"]["uid"])


def test_mocks_render_nested_outputs_a_certificate_validation_record_per_domain():
    _, certificate = answer("aws:acm/certificate:Certificate", "cert", {"domainName": "scorer.fraud.example.com",
                                                                       "validationMethod": "DNS"})
    [option] = certificate["domainValidationOptions"]
    assert option["domainName"] == "scorer.fraud.example.com" and option["resourceRecordType"] == "CNAME"
    assert re.fullmatch(r"_[0-9A-F]{17}\.scorer\.fraud\.example\.com\.", option["resourceRecordName"])
    assert certificate["arn"].startswith("arn:aws:acm:us-east-1:123456789012:certificate/")
    _, domain = answer("aws:apigateway/domainName:DomainName", "d", {"domainName": "scorer.fraud.example.com"})
    assert domain["regionalDomainName"].endswith(".execute-api.us-east-1.amazonaws.com")


def test_eks_outputs_nest_like_the_provider_returns_them():
    resource_id, state = answer("aws:eks/cluster:Cluster", "c", {"name": "platform-dev-eks-euw1"})
    assert resource_id == "platform-dev-eks-euw1"
    issuer = state["identities"][0]["oidcs"][0]["issuer"]
    assert re.fullmatch(r"https://oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[0-9A-F]{32}", issuer)
    assert state["endpoint"].endswith(".eks.amazonaws.com") and state["certificateAuthority"]["data"]
    resource_id, state = answer("aws:eks/nodeGroup:NodeGroup", "g", {"clusterName": "c1", "nodeGroupName": "gpu"})
    assert resource_id == "c1:gpu"
    assert state["resources"][0]["autoscalingGroups"][0]["name"].startswith("eks-gpu-")


def test_warm_up_imports_every_kubernetes_api_version_the_program_uses():
    import re
    from pathlib import Path

    from platform_lib.plan.runner import KUBERNETES_APIS

    infra = Path(__file__).resolve().parents[2] / "infra"
    used = {m for path in infra.rglob("*.py") for m in re.findall(r"\bk8s\.([a-z]+)\.(v\d\w*)\.", path.read_text())}
    assert used == set(KUBERNETES_APIS)
