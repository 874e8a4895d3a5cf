"""Network per platform environment and region, as the program registers it under mocks."""

import ipaddress

import pytest

from infra.components.network import GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS, subnet_layout
from infra.naming import region_code


def test_subnet_layout_fits_and_never_overlaps():
    for prefix in (16, 19, 22):
        cidr = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
        private, public = subnet_layout(cidr, 6)
        nets = [ipaddress.IPv4Network(n) for n in private + public]
        assert all(n.subnet_of(cidr) for n in nets)
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
        assert min(n.prefixlen for n in nets) == prefix + 3 and max(n.prefixlen for n in nets) <= 28


@pytest.mark.parametrize("stack,regions,azs,nats", [
    ("platform-dev", ["eu-west-1"], 2, 1),
    ("platform-prod", ["eu-west-1", "us-east-1"], 3, 3),
])
def test_vpc_per_region_with_subnets_and_nat(plans, stack, regions, azs, nats):
    view = plans[stack]
    vpcs = view.of_type("aws:ec2/vpc:Vpc")
    assert sorted(view.by_urn[v.provider].inputs["region"] for v in vpcs) == sorted(regions)
    subnets = view.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 2 * azs * len(regions)
    assert not any(s.inputs.get("mapPublicIpOnLaunch", False) for s in subnets)
    for region in regions:
        code = region_code(region)
        in_region = [s for s in subnets if f"-{code}-" in s.name]
        assert sorted({s.inputs["availabilityZone"] for s in in_region}) == [f"{region}{z}" for z in "abc"[:azs]]
    gateways = view.of_type("aws:ec2/natGateway:NatGateway")
    assert len(gateways) == nats * len(regions)
    igws = {g.urn for g in view.of_type("aws:ec2/internetGateway:InternetGateway")}
    assert all(set(g.dependencies) & igws for g in gateways)  # created after the internet gateway
    nat_ids = {g.id for g in gateways}
    private = [t for t in view.of_type("aws:ec2/routeTable:RouteTable") if "private" in t.name]
    assert len(private) == azs * len(regions)
    assert {t.inputs["routes"][0]["natGatewayId"] for t in private} == nat_ids


def test_default_security_group_is_closed(plans):
    for view in (plans["platform-dev"], plans["platform-prod"]):
        for group in view.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
            assert group.inputs.get("ingress", []) == [] and group.inputs.get("egress", []) == []


def test_flow_logs_are_kms_encrypted_and_retained(plans):
    view = plans["platform-prod"]
    logs = [g for g in view.of_type("aws:cloudwatch/logGroup:LogGroup") if "/vpc-flow-logs/" in g.inputs["name"]]
    assert len(logs) == 2
    for group in logs:
        assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
        assert group.inputs["retentionInDays"] == 365
    flow_logs = view.of_type("aws:ec2/flowLog:FlowLog")
    vpcs = {v.urn for v in view.of_type("aws:ec2/vpc:Vpc")}
    assert {fl.property_dependencies["vpcId"][0] for fl in flow_logs} == vpcs
    assert all(fl.inputs["trafficType"] == "ALL" for fl in flow_logs)


def test_endpoints_cover_ml_services_and_dev_keeps_them_in_one_az(plans):
    for stack, azs in (("platform-dev", 1), ("platform-prod", 3)):
        view = plans[stack]
        endpoints = [e for e in view.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if "euw1" in e.name]
        interface = {e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1."): e
                     for e in endpoints if e.inputs["vpcEndpointType"] == "Interface"}
        gateway = {e.inputs["serviceName"].removeprefix("com.amazonaws.eu-west-1.")
                   for e in endpoints if e.inputs["vpcEndpointType"] == "Gateway"}
        assert set(interface) == set(INTERFACE_ENDPOINTS) and gateway == set(GATEWAY_ENDPOINTS)
        assert all(len(e.inputs["subnetIds"]) == azs and e.inputs["privateDnsEnabled"] for e in interface.values())
    group = plans["platform-dev"].named("platform-dev-endpoints-sg-euw1")
    assert group.inputs["ingress"] == [{"protocol": "tcp", "fromPort": 443, "toPort": 443,
                                        "cidrBlocks": ["10.10.0.0/16"], "description": "HTTPS from the VPC"}]
