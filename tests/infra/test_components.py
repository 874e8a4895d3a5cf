"""Each component alone, built from its args only (no stack config), under the plan's mocks."""

import ipaddress

import pytest

from infra.components.encryption import Encryption, EncryptionArgs, KeyDomain
from infra.components.identity import PlatformIdentity, PlatformIdentityArgs, TeamIdentity, TeamIdentityArgs
from infra.components.network import INTERFACE_ENDPOINTS, Network, NetworkArgs
from infra.components.storage import DataLake, DataLakeArgs, Lifecycle

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
ROLE_ARN = "arn:aws:iam::123456789012:role/platform-dev-flow-logs"
BOUNDARY = "arn:aws:iam::123456789012:policy/platform-dev-workload-boundary"


def network_args(names, nat="none", az_count=2, multi_az=False):
    return NetworkArgs(names, "eu-west-1", ipaddress.IPv4Network("10.0.0.0/22"), az_count=az_count, nat=nat,
                       endpoints_multi_az=multi_az, log_retention_days=30, logs_key_arn=KEY_ARN,
                       flow_logs_role_arn=ROLE_ARN)


def test_network_alone_lays_out_subnets_from_its_cidr(component, platform_names):
    view = component(lambda p: Network("net", network_args(platform_names), p["eu-west-1"]))
    subnets = {s.name: s.inputs["cidrBlock"] for s in view.of_type("aws:ec2/subnet:Subnet")}
    assert subnets == {
        "platform-prod-private-euw1-0": "10.0.0.0/25", "platform-prod-private-euw1-1": "10.0.0.128/25",
        "platform-prod-public-euw1-0": "10.0.3.128/28", "platform-prod-public-euw1-1": "10.0.3.144/28",
    }
    assert view.named("platform-prod-vpc-euw1").inputs["cidrBlock"] == "10.0.0.0/22"
    assert {view.region_of(s) for s in view.of_type("aws:ec2/subnet:Subnet")} == {"eu-west-1"}


@pytest.mark.parametrize("nat,gateways", [("none", 0), ("single", 1), ("per-az", 3)])
def test_network_alone_nat_strategy(component, platform_names, nat, gateways):
    view = component(lambda p: Network("net", network_args(platform_names, nat, az_count=3), p["eu-west-1"]))
    assert len(view.of_type("aws:ec2/natGateway:NatGateway")) == gateways
    assert len(view.of_type("aws:ec2/eip:Eip")) == gateways
    private = [t for t in view.of_type("aws:ec2/routeTable:RouteTable") if "private" in t.name]
    assert len(private) == 3
    routes = [t.inputs.get("routes", []) for t in private]
    assert routes == ([[]] * 3 if nat == "none" else [[{"cidrBlock": "0.0.0.0/0", "natGatewayId": r[0]["natGatewayId"]}]
                                                       for r in routes])


def test_network_alone_flow_logs_use_its_key_role_and_retention(component, platform_names):
    view = component(lambda p: Network("net", network_args(platform_names), p["eu-west-1"]))
    (group,) = view.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == platform_names.flow_log_group("eu-west-1") == \
        "/ml-platform/prod/vpc-flow-logs/eu-west-1"
    assert group.inputs["kmsKeyId"] == KEY_ARN and group.inputs["retentionInDays"] == 30
    (flow_log,) = view.of_type("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["iamRoleArn"] == ROLE_ARN
    assert flow_log.inputs["logDestination"] == "arn:aws:logs:eu-west-1:123456789012:log-group:" + group.inputs["name"]


@pytest.mark.parametrize("multi_az,subnets", [(False, 1), (True, 2)])
def test_network_alone_interface_endpoints_span_the_asked_azs(component, platform_names, multi_az, subnets):
    view = component(lambda p: Network("net", network_args(platform_names, multi_az=multi_az), p["eu-west-1"]))
    interface = [e for e in view.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if e.inputs["vpcEndpointType"] == "Interface"]
    assert sorted(e.inputs["serviceName"] for e in interface) == sorted(f"com.amazonaws.eu-west-1.{s}"
                                                                         for s in INTERFACE_ENDPOINTS)
    assert {len(e.inputs["subnetIds"]) for e in interface} == {subnets}


def test_encryption_alone_keys_per_domain_and_region(component, team_names):
    domains = {"data": KeyDomain("data", ["eu-west-1"], via_services=["s3"]),
               "models": KeyDomain("models", ["eu-west-1", "us-east-1"])}
    view = component(lambda p: Encryption("keys", EncryptionArgs(team_names, domains, protect=True), p),
                     regions=("eu-west-1", "us-east-1"))
    keys = {k.name: k for k in view.of_type("aws:kms/key:Key")}
    assert sorted(keys) == ["fraud-dev-data-euw1", "fraud-dev-models-euw1", "fraud-dev-models-use1"]
    assert all(k.protect and k.retain_on_delete for k in keys.values())
    assert view.region_of(keys["fraud-dev-models-use1"]) == "us-east-1"
    aliases = sorted(a.inputs["name"] for a in view.of_type("aws:kms/alias:Alias"))
    assert aliases == ["alias/fraud-dev-data", "alias/fraud-dev-models", "alias/fraud-dev-models"]
    data_policy = view.document(keys["fraud-dev-data-euw1"])
    assert [s["Sid"] for s in data_policy["Statement"]] == ["KeyAdministration", "UseThroughServices"]
    assert data_policy["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"] == ["s3.eu-west-1.amazonaws.com"]
    assert [s["Sid"] for s in view.document(keys["fraud-dev-models-use1"])["Statement"]] == ["KeyAdministration"]


LIFECYCLE = Lifecycle(tiering_after_days=3, raw_archive_after_days=40, noncurrent_version_expiry_days=20,
                      access_log_days=60)


def lake_args(names, serving):
    keys = {"data": {"eu-west-1": KEY_ARN},
            "models": {r: KEY_ARN.replace("eu-west-1", r) for r in ["eu-west-1", *serving]}}
    return DataLakeArgs(names, "eu-west-1", serving, LIFECYCLE, key_arns=keys, permissions_boundary=BOUNDARY,
                        protect=False)


def test_data_lake_alone_takes_lifecycle_keys_and_regions_from_its_args(component, team_names):
    view = component(lambda p: DataLake("lake", lake_args(team_names, ["eu-west-1", "us-east-1"]), p),
                     regions=("eu-west-1", "us-east-1"))
    buckets = sorted(b.inputs["bucket"] for b in view.of_type("aws:s3/bucket:Bucket"))
    assert buckets == sorted(f"fraud-dev-{p}-123456789012-{r}" for p, r in [
        ("raw", "euw1"), ("curated", "euw1"), ("features", "euw1"), ("models", "euw1"), ("logs", "euw1"),
        ("models", "use1"), ("logs", "use1")])
    raw = view.named("fraud-dev-raw-lifecycle").inputs["rules"][0]
    assert [(t["days"], t["storageClass"]) for t in raw["transitions"]] == [(3, "INTELLIGENT_TIERING"),
                                                                           (40, "DEEP_ARCHIVE")]
    assert raw["noncurrentVersionExpiration"] == {"noncurrentDays": 20}
    assert view.named("fraud-dev-logs-use1-lifecycle").inputs["rules"][0]["expiration"] == {"days": 60}
    (replication,) = view.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert replication.inputs["rules"][0]["destination"]["encryptionConfiguration"] == {
        "replicaKmsKeyId": KEY_ARN.replace("eu-west-1", "us-east-1")}
    assert view.named("fraud-dev-models-replication", "aws:iam/role:Role").inputs["permissionsBoundary"] == BOUNDARY


def test_data_lake_alone_serving_only_its_primary_has_no_replication(component, team_names):
    view = component(lambda p: DataLake("lake", lake_args(team_names, ["eu-west-1"]), p))
    assert not view.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert not view.of_type("aws:iam/role:Role")
    assert len(view.of_type("aws:s3/bucket:Bucket")) == 5


OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize("existing", [None, OIDC_ARN])
def test_platform_identity_alone_creates_the_oidc_provider_unless_given(component, platform_names, existing):
    args = PlatformIdentityArgs(platform_names, github_org="acme", github_repo="ml", oidc_provider_arn=existing)
    view = component(lambda p: PlatformIdentity("identity", args, p["eu-west-1"]))
    providers = view.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert len(providers) == (0 if existing else 1)
    assert all(p.retain_on_delete for p in providers)
    role = view.named("platform-prod-ci-deploy", "aws:iam/role:Role")
    (trust,) = view.document(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"]["Federated"] == platform_names.oidc_provider_arn()
    assert trust["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        "repo:acme/ml:environment:prod"
    (flow_logs,) = view.document(view.named("platform-prod-flow-logs-policy"))["Statement"]
    assert flow_logs["Resource"] == "arn:aws:logs:*:123456789012:log-group:/ml-platform/prod/vpc-flow-logs/*"


def test_team_identity_alone_grants_exactly_its_buckets_and_keys(component, team_names):
    buckets = ["arn:aws:s3:::fraud-dev-raw-123456789012-euw1", "arn:aws:s3:::fraud-dev-models-123456789012-euw1"]
    args = TeamIdentityArgs(team_names, bucket_arns=buckets, key_arns=[KEY_ARN], permissions_boundary=BOUNDARY)
    view = component(lambda p: TeamIdentity("identity", args, p["eu-west-1"]))
    role = view.named("fraud-dev-sagemaker-execution", "aws:iam/role:Role")
    assert role.inputs["permissionsBoundary"] == BOUNDARY
    statements = {s["Sid"]: s for s in view.document(view.named("fraud-dev-sagemaker-execution-policy"))["Statement"]}
    assert statements["TeamBuckets"]["Resource"] == buckets
    assert statements["TeamObjects"]["Resource"] == [f"{b}/*" for b in buckets]
    assert statements["TeamKeys"]["Resource"] == [KEY_ARN]
    assert statements["TeamSageMakerResources"]["Resource"] == "arn:aws:sagemaker:*:123456789012:*/fraud-dev-*"
