"""Network and account-baseline stack rules: default security groups closed, private subnets without
public IPs, no network ACL open on 22/3389, CloudTrail and GuardDuty in prod platform stacks."""

from __future__ import annotations

import pytest

from policies.rules.network_acl_no_public_admin_ports import RULE as NACL
from policies.rules.prod_platform_threat_detection import RULE as THREAT_DETECTION
from policies.rules.subnet_private_no_public_ip import RULE as PRIVATE_SUBNETS
from policies.rules.vpc_default_security_group_closed import RULE as DEFAULT_SG

VPC = "aws:ec2/vpc:Vpc"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
IGW = "aws:ec2/internetGateway:InternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
DEFAULT_NETWORK_ACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"


def vpc(kit, name="platform-dev-vpc"):
    return kit.resource(VPC, {"cidrBlock": "10.0.0.0/16", "tags": {"Name": name}}, name)


# -- default security group ---------------------------------------------------------------------

def default_sg(kit, network, **props):
    return kit.resource(DEFAULT_SECURITY_GROUP, {"vpcId": kit.unknown, **props}, f"{network.name}-default-sg",
                        deps={"vpcId": [network]})


@pytest.mark.parametrize("props", [{"ingress": [], "egress": []}, {}])
def test_adopted_empty_default_security_group_is_compliant(kit, props):
    network = vpc(kit)
    assert kit.run(DEFAULT_SG, kit.stack(network, default_sg(kit, network, **props))) == []


def test_vpc_without_its_default_security_group_is_reported(kit):
    network = vpc(kit)
    [(message, urn)] = kit.run(DEFAULT_SG, kit.stack(network))
    assert urn == network.urn
    assert message.startswith("VPC 'platform-dev-vpc' leaves its default security group unmanaged (open); "
                              "required: an ec2.DefaultSecurityGroup with vpcId=<this VPC> and no ingress or egress")


def test_default_security_group_with_rules_is_reported(kit):
    network = vpc(kit)
    group = default_sg(kit, network, ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
                       egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}])
    [(message, urn)] = kit.run(DEFAULT_SG, kit.stack(network, group))
    assert urn == group.urn
    assert message.startswith("default security group 'platform-dev-vpc-default-sg' has ingress and egress rules;")


def test_separate_rule_on_the_default_group_is_reported(kit):
    network = vpc(kit)
    group = default_sg(kit, network)
    rule = kit.resource(SG_RULE, {"type": "egress", "securityGroupId": kit.unknown, "protocol": "-1",
                                  "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}, "open-default",
                        deps={"securityGroupId": [group]})
    assert [urn for _, urn in kit.run(DEFAULT_SG, kit.stack(network, group, rule))] == [rule.urn]


def test_unknown_default_group_rules_are_not_violations(kit):
    network = vpc(kit)
    assert kit.run(DEFAULT_SG, kit.stack(network, default_sg(kit, network, ingress=kit.unknown))) == []


# -- private subnets don't map public IPs -------------------------------------------------------

def routed_subnet(kit, name, *, public_route, map_public_ip):
    network = vpc(kit)
    subnet = kit.resource(SUBNET, {"vpcId": kit.unknown, "cidrBlock": "10.0.0.0/20",
                                   "mapPublicIpOnLaunch": map_public_ip, "tags": {"Name": name}}, name,
                          deps={"vpcId": [network]})
    table = kit.resource(ROUTE_TABLE, {"vpcId": kit.unknown}, f"{name}-routes", deps={"vpcId": [network]})
    gateway = kit.resource(IGW if public_route else NAT, {"vpcId": kit.unknown}, f"{name}-gateway")
    key = "gatewayId" if public_route else "natGatewayId"
    route = kit.resource(ROUTE, {"routeTableId": kit.unknown, "destinationCidrBlock": "0.0.0.0/0",
                                 key: kit.unknown}, f"{name}-default-route",
                         deps={"routeTableId": [table], key: [gateway]})
    association = kit.resource(ASSOCIATION, {"subnetId": kit.unknown, "routeTableId": kit.unknown},
                               f"{name}-association", deps={"subnetId": [subnet], "routeTableId": [table]})
    return subnet, [network, subnet, table, gateway, route, association]


def test_public_subnet_may_map_public_ips(kit):
    _, resources = routed_subnet(kit, "public-0", public_route=True, map_public_ip=True)
    assert kit.run(PRIVATE_SUBNETS, kit.stack(*resources)) == []


def test_private_subnet_without_public_ips_is_compliant(kit):
    _, resources = routed_subnet(kit, "private-0", public_route=False, map_public_ip=False)
    assert kit.run(PRIVATE_SUBNETS, kit.stack(*resources)) == []


def test_private_subnet_mapping_public_ips_is_reported(kit):
    subnet, resources = routed_subnet(kit, "private-0", public_route=False, map_public_ip=True)
    assert kit.run(PRIVATE_SUBNETS, kit.stack(*resources)) == [
        ("subnet 'private-0' has no route to an internet gateway (private) but sets mapPublicIpOnLaunch=true; "
         "required: mapPublicIpOnLaunch unset or false on subnets without a default route to an internet gateway "
         "(public IPs there are reachable once any route or NAT change exposes them, and bypass the NAT)",
         subnet.urn)]


def test_unassociated_subnet_is_private(kit):
    subnet = kit.resource(SUBNET, {"mapPublicIpOnLaunch": True}, "loose")
    assert [urn for _, urn in kit.run(PRIVATE_SUBNETS, kit.stack(subnet))] == [subnet.urn]


def test_inline_route_to_an_internet_gateway_makes_a_subnet_public(kit):
    subnet = kit.resource(SUBNET, {"id": "subnet-1", "mapPublicIpOnLaunch": True}, "public")
    table = kit.resource(ROUTE_TABLE, {"id": "rtb-1", "routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}]},
                         "public-routes")
    association = kit.resource(ASSOCIATION, {"subnetId": "subnet-1", "routeTableId": "rtb-1"}, "a", dependencies=[])
    assert kit.run(PRIVATE_SUBNETS, kit.stack(subnet, table, association)) == []


def test_unknown_route_target_is_not_a_violation(kit):
    subnet = kit.resource(SUBNET, {"id": "subnet-1", "mapPublicIpOnLaunch": True}, "s")
    table = kit.resource(ROUTE_TABLE, {"id": "rtb-1", "routes": [{"cidrBlock": "0.0.0.0/0",
                                                                  "gatewayId": kit.unknown}]}, "rt")
    association = kit.resource(ASSOCIATION, {"subnetId": "subnet-1", "routeTableId": "rtb-1"}, "a", dependencies=[])
    assert kit.run(PRIVATE_SUBNETS, kit.stack(subnet, table, association)) == []


# -- network ACLs -------------------------------------------------------------------------------

def entry(rule_no, action, cidr="0.0.0.0/0", protocol="tcp", low=22, high=22):
    body = {"ruleNo": rule_no, "action": action, "protocol": protocol, "fromPort": low, "toPort": high}
    body["ipv6CidrBlock" if ":" in cidr else "cidrBlock"] = cidr
    return body


def managed(kit, network, ingress=()):
    return kit.resource(DEFAULT_NETWORK_ACL, {"defaultNetworkAclId": kit.unknown, "ingress": list(ingress)},
                        "default-acl", deps={"defaultNetworkAclId": [network]})


def test_closed_acls_and_a_managed_default_are_compliant(kit):
    network = vpc(kit)
    acl = kit.resource(NETWORK_ACL, {"vpcId": kit.unknown, "ingress": [
        entry(100, "deny", low=22, high=22), entry(110, "allow", low=0, high=65535),
        entry(120, "allow", "10.0.0.0/16", "-1", 0, 0), entry(130, "allow", low=443, high=443)]},
        "private-acl", deps={"vpcId": [network]})
    assert kit.run(NACL, kit.stack(network, managed(kit, network), acl)) == [
        ("network ACL 'private-acl' allows inbound tcp 3389 from 0.0.0.0/0 (rule 110); required: no inbound allow "
         "from 0.0.0.0/0 or ::/0 covering tcp or udp 22 or 3389 ahead of a deny (lower rule number), and every VPC's "
         "default network ACL managed (ec2.DefaultNetworkAcl: AWS's default admits all inbound traffic)", acl.urn)]


@pytest.mark.parametrize("opening, port, cidr", [
    (entry(100, "allow", low=0, high=65535), 22, "0.0.0.0/0"),
    (entry(100, "allow", "::/0", "-1", 0, 0), 22, "::/0"),
    (entry(100, "allow", protocol="6", low=3389, high=3389), 3389, "0.0.0.0/0"),
    (entry(100, "allow", protocol="udp", low=3389, high=3389), 3389, "0.0.0.0/0"),
])
def test_acl_open_on_admin_ports_is_reported(kit, opening, port, cidr):
    network = vpc(kit)
    acl = kit.resource(NETWORK_ACL, {"ingress": [opening]}, "acl")
    messages = [m for m, _ in kit.run(NACL, kit.stack(network, managed(kit, network), acl))]
    assert messages[0].split(";")[0] in (f"network ACL 'acl' allows inbound {protocol} {port} from {cidr} (rule 100)"
                                         for protocol in ("tcp", "udp"))


def test_separate_acl_rule_is_reported_and_deny_ahead_of_it_wins(kit):
    network = vpc(kit)
    acl = kit.resource(NETWORK_ACL, {"vpcId": kit.unknown}, "acl", deps={"vpcId": [network]})
    ssh = kit.resource(NETWORK_ACL_RULE, {"networkAclId": kit.unknown, "ruleNumber": 200, "egress": False,
                                          "ruleAction": "allow", "protocol": "tcp", "fromPort": 22, "toPort": 22,
                                          "cidrBlock": "0.0.0.0/0"}, "ssh", deps={"networkAclId": [acl]})
    rdp_denied = kit.resource(NETWORK_ACL_RULE, {"networkAclId": kit.unknown, "ruleNumber": 90, "egress": False,
                                                 "ruleAction": "deny", "protocol": "tcp", "fromPort": 3389,
                                                 "toPort": 3389, "cidrBlock": "0.0.0.0/0"}, "no-rdp",
                              deps={"networkAclId": [acl]})
    rdp = kit.resource(NETWORK_ACL_RULE, {"networkAclId": kit.unknown, "ruleNumber": 300, "egress": False,
                                          "ruleAction": "allow", "protocol": "tcp", "fromPort": 3389, "toPort": 3389,
                                          "cidrBlock": "0.0.0.0/0"}, "rdp", deps={"networkAclId": [acl]})
    egress = kit.resource(NETWORK_ACL_RULE, {"networkAclId": kit.unknown, "ruleNumber": 100, "egress": True,
                                             "ruleAction": "allow", "protocol": "-1", "fromPort": 0, "toPort": 0,
                                             "cidrBlock": "0.0.0.0/0"}, "egress", deps={"networkAclId": [acl]})
    stack = kit.stack(network, managed(kit, network), acl, ssh, rdp_denied, rdp, egress)
    assert [urn for _, urn in kit.run(NACL, stack)] == [ssh.urn]


def test_vpc_with_an_unmanaged_default_acl_is_reported(kit):
    network = vpc(kit)
    [(message, urn)] = kit.run(NACL, kit.stack(network))
    assert urn == network.urn
    assert message.startswith("VPC 'platform-dev-vpc' leaves its default network ACL unmanaged (it allows all "
                              "inbound traffic, 22 and 3389 included);")


def test_default_acl_adopted_with_an_open_rule_is_reported(kit):
    network = vpc(kit)
    default = managed(kit, network, [entry(100, "allow", protocol="-1", low=0, high=0)])
    messages = [m.split(";")[0] for m, _ in kit.run(NACL, kit.stack(network, default))]
    assert messages == [f"network ACL 'default-acl' allows inbound {protocol} {port} from 0.0.0.0/0 (rule 100)"
                        for port in (22, 3389) for protocol in ("tcp", "udp")]


def test_unknown_acl_entries_are_not_violations(kit):
    network = vpc(kit)
    acl = kit.resource(NETWORK_ACL, {"ingress": [entry(100, "allow", cidr=kit.unknown),
                                                 entry(110, "allow", protocol=kit.unknown)]}, "acl")
    assert kit.run(NACL, kit.stack(network, managed(kit, network), acl)) == []


# -- CloudTrail and GuardDuty in prod platform stacks -------------------------------------------

PLATFORM_PROD = {"team": "platform", "env": "prod", "cost-center": "ml-platform"}
TRAIL_OK = {"isMultiRegionTrail": True, "enableLogFileValidation": True, "s3BucketName": "trail-logs"}


def platform(kit, region="eu-west-1", tags=PLATFORM_PROD):
    return kit.provider(tags, name=f"aws-{region}", region=region)


def test_prod_platform_with_trail_and_detectors_is_compliant(kit):
    euw1, use1 = platform(kit), platform(kit, "us-east-1")
    stack = kit.stack(kit.resource(TRAIL, TRAIL_OK, "trail", provider=euw1),
                      kit.resource(DETECTOR, {"enable": True}, "detector-euw1", provider=euw1),
                      kit.resource(DETECTOR, {}, "detector-use1", provider=use1))
    assert kit.run(THREAT_DETECTION, stack) == []


def test_prod_platform_without_them_is_reported_per_region(kit):
    euw1, use1 = platform(kit), platform(kit, "us-east-1")
    stack = kit.stack(kit.resource(VPC, {}, "vpc-euw1", provider=euw1),
                      kit.resource(VPC, {}, "vpc-use1", provider=use1),
                      kit.resource(DETECTOR, {"enable": True}, "detector-euw1", provider=euw1))
    assert kit.run(THREAT_DETECTION, stack) == [
        ("prod platform stack has no CloudTrail trail; required: a cloudtrail.Trail with is_multi_region_trail=True "
         "and enable_log_file_validation=True", euw1.urn),
        ("prod platform stack has no GuardDuty detector in us-east-1 (provider 'aws-us-east-1'); required: a "
         "guardduty.Detector (enable=True) in every region the platform deploys to", use1.urn)]


@pytest.mark.parametrize("props", [{**TRAIL_OK, "isMultiRegionTrail": False},
                                   {**TRAIL_OK, "enableLogFileValidation": None},
                                   {**TRAIL_OK, "enableLogging": False}])
def test_single_region_or_unvalidated_trail_is_reported_on_the_trail(kit, props):
    euw1 = platform(kit)
    trail = kit.resource(TRAIL, props, "trail", provider=euw1)
    stack = kit.stack(trail, kit.resource(DETECTOR, {}, "detector", provider=euw1))
    assert kit.run(THREAT_DETECTION, stack) == [
        ("prod platform stack has no compliant CloudTrail trail; required: a cloudtrail.Trail with "
         "is_multi_region_trail=True and enable_log_file_validation=True", trail.urn)]


def test_disabled_detector_does_not_count(kit):
    euw1 = platform(kit)
    stack = kit.stack(kit.resource(TRAIL, TRAIL_OK, "trail", provider=euw1),
                      kit.resource(DETECTOR, {"enable": False}, "detector", provider=euw1))
    assert [urn for _, urn in kit.run(THREAT_DETECTION, stack)] == [euw1.urn]


@pytest.mark.parametrize("tags", [{**PLATFORM_PROD, "env": "dev"}, {**PLATFORM_PROD, "team": "fraud"}])
def test_dev_platforms_and_team_stacks_are_not_checked(kit, tags):
    assert kit.run(THREAT_DETECTION, kit.stack(kit.resource(VPC, {}, "vpc", provider=platform(kit, tags=tags)))) == []


def test_unknown_trail_flags_are_not_violations(kit):
    euw1 = platform(kit)
    stack = kit.stack(kit.resource(TRAIL, {**TRAIL_OK, "isMultiRegionTrail": kit.unknown_bool}, "t", provider=euw1),
                      kit.resource(DETECTOR, {}, "detector", provider=euw1))
    assert kit.run(THREAT_DETECTION, stack) == []


def test_inline_route_with_unknown_gateway_depending_on_an_igw_is_public(kit):
    """Under `pulumi preview` the inline route's gatewayId is unknown; the dependency names the IGW."""
    gateway = kit.resource(IGW, {"vpcId": kit.unknown}, "igw")
    subnet = kit.resource(SUBNET, {"mapPublicIpOnLaunch": True}, "public")
    table = kit.resource(ROUTE_TABLE, {"routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": kit.unknown}]},
                         "public-routes", deps={"routes": [gateway]})
    association = kit.resource(ASSOCIATION, {"subnetId": kit.unknown, "routeTableId": kit.unknown}, "a",
                               deps={"subnetId": [subnet], "routeTableId": [table]})
    assert kit.run(PRIVATE_SUBNETS, kit.stack(gateway, subnet, table, association)) == []


def test_default_acl_whose_vpc_link_is_unknown_counts_for_a_vpc_of_its_provider(kit):
    """The required defaultNetworkAclId may be unknown (or vanish under mocks): one VPC of its provider is covered."""
    euw1, use1 = kit.provider(name="aws-euw1"), kit.provider(name="aws-use1", region="us-east-1")
    vpc_euw1 = kit.resource(VPC, {"tags": {"Name": "vpc-euw1"}}, "vpc-euw1", provider=euw1)
    vpc_use1 = kit.resource(VPC, {"tags": {"Name": "vpc-use1"}}, "vpc-use1", provider=use1)
    other_euw1 = kit.resource(VPC, {"tags": {"Name": "other-euw1"}}, "other-euw1", provider=euw1)
    default = kit.resource(DEFAULT_NETWORK_ACL, {"ingress": []}, "default-acl-euw1", provider=euw1, dependencies=[])
    violations = kit.run(NACL, kit.stack(vpc_euw1, vpc_use1, other_euw1, default))
    assert [urn for _, urn in violations] == [vpc_use1.urn, other_euw1.urn]
