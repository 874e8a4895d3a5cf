"""Network stack rules: VPC flow logs, no public ingress except 80/443 on load balancers."""

from __future__ import annotations

import pytest

from policies.rules.security_group_no_public_ingress import RULE as NO_PUBLIC_INGRESS
from policies.rules.vpc_flow_logs_enabled import RULE as FLOW_LOGS

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LB = {"ml-platform/purpose": "load-balancer"}

# -- flow logs ----------------------------------------------------------------------------------


def vpc(kit, name="platform-dev", vpc_id=None):
    props = {"cidrBlock": "10.0.0.0/16", "tags": {"Name": name}}
    if vpc_id:
        props["id"] = vpc_id
    return kit.resource(VPC, props, name)


def test_vpc_with_flow_log_is_compliant(kit):
    network = vpc(kit)
    log = kit.resource(FLOW_LOG, {"vpcId": kit.unknown, "trafficType": "ALL"}, "flow", deps={"vpcId": [network]})
    assert kit.run(FLOW_LOGS, kit.stack(network, log)) == []


def test_flow_log_linked_by_vpc_id_value(kit):
    network = vpc(kit, vpc_id="vpc-0abc")
    log = kit.resource(FLOW_LOG, {"vpcId": "vpc-0abc", "trafficType": "REJECT"}, "flow", dependencies=[])
    assert kit.run(FLOW_LOGS, kit.stack(network, log)) == []


def test_vpc_without_flow_log_is_reported(kit):
    network, other = vpc(kit, "platform-dev"), vpc(kit, "other")
    log = kit.resource(FLOW_LOG, {"vpcId": kit.unknown, "trafficType": "ALL"}, "flow", deps={"vpcId": [network]})
    [(message, urn)] = kit.run(FLOW_LOGS, kit.stack(network, other, log))
    assert urn == other.urn and "VPC 'other' has no flow log" in message and "REJECT" in message


def test_accept_only_flow_log_is_reported(kit):
    network = vpc(kit)
    log = kit.resource(FLOW_LOG, {"vpcId": kit.unknown, "trafficType": "ACCEPT"}, "flow", deps={"vpcId": [network]})
    [(message, urn)] = kit.run(FLOW_LOGS, kit.stack(network, log))
    assert urn == log.urn and "only ACCEPT" in message


def test_unknown_traffic_type_is_not_a_violation(kit):
    network = vpc(kit)
    log = kit.resource(FLOW_LOG, {"vpcId": kit.unknown, "trafficType": kit.unknown}, "flow", deps={"vpcId": [network]})
    assert kit.run(FLOW_LOGS, kit.stack(network, log)) == []


# -- security groups ----------------------------------------------------------------------------

def ingress(port, cidr="0.0.0.0/0", protocol="tcp", to_port=None):
    return {"protocol": protocol, "fromPort": float(port), "toPort": float(port if to_port is None else to_port),
            "cidrBlocks": [cidr] if cidr and ":" not in cidr else [],
            "ipv6CidrBlocks": [cidr] if cidr and ":" in cidr else []}


def group(kit, name, entries=(), tags=None, sg_id=None):
    props = {"name": name, "ingress": list(entries), "tags": dict(tags or {})}
    if sg_id:
        props["id"] = sg_id
    return kit.resource(SG, props, name)


@pytest.mark.parametrize("entry", [ingress(443), ingress(80, "::/0")])
def test_load_balancer_may_accept_web_traffic_from_anywhere(kit, entry):
    assert kit.run(NO_PUBLIC_INGRESS, kit.stack(group(kit, "alb", [entry], LB))) == []


def test_private_ingress_is_compliant(kit):
    sg = group(kit, "nodes", [ingress(22, "10.0.0.0/16"), ingress(0, "10.0.0.0/8", "-1")])
    assert kit.run(NO_PUBLIC_INGRESS, kit.stack(sg)) == []


@pytest.mark.parametrize("entry, tags, opened", [
    (ingress(22), LB, "tcp 22"),
    (ingress(443), None, "tcp 443 (not a load-balancer security group)"),
    (ingress(0, "::/0", "-1", 0), LB, "all protocols and ports"),
    (ingress(80, to_port=443), LB, "tcp 80-443"),
    (ingress(443, protocol="udp"), LB, "udp 443"),
])
def test_public_ingress_is_reported(kit, entry, tags, opened):
    sg = group(kit, "web", [entry], tags)
    [(message, urn)] = kit.run(NO_PUBLIC_INGRESS, kit.stack(sg))
    assert urn == sg.urn and "security group 'web' allows ingress from" in message
    assert opened in message and "ml-platform/purpose=load-balancer" in message


def test_security_group_rule_resource_is_checked_against_its_group(kit):
    alb, nodes = group(kit, "alb", tags=LB), group(kit, "nodes")
    ok = kit.resource(SG_RULE, {"type": "ingress", "securityGroupId": kit.unknown, **ingress(443)},
                      "alb-https", deps={"securityGroupId": [alb]})
    bad = kit.resource(SG_RULE, {"type": "ingress", "securityGroupId": kit.unknown, **ingress(443)},
                       "nodes-https", deps={"securityGroupId": [nodes]})
    egress = kit.resource(SG_RULE, {"type": "egress", "securityGroupId": kit.unknown, **ingress(0, protocol="-1")},
                          "nodes-egress", deps={"securityGroupId": [nodes]})
    [(message, urn)] = kit.run(NO_PUBLIC_INGRESS, kit.stack(alb, nodes, ok, bad, egress))
    assert urn == bad.urn and "security group 'nodes'" in message


def test_vpc_ingress_rule_resource_is_checked(kit):
    alb = group(kit, "alb", tags=LB, sg_id="sg-0alb")
    ok = kit.resource(SG_INGRESS, {"securityGroupId": "sg-0alb", "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
                                   "fromPort": 443.0, "toPort": 443.0}, "alb-https", dependencies=[])
    ssh = kit.resource(SG_INGRESS, {"securityGroupId": "sg-0alb", "cidrIpv6": "::/0", "ipProtocol": "tcp",
                                    "fromPort": 22.0, "toPort": 22.0}, "alb-ssh", dependencies=[])
    all_traffic = kit.resource(SG_INGRESS, {"securityGroupId": "sg-0alb", "cidrIpv4": "0.0.0.0/0",
                                            "ipProtocol": "-1"}, "alb-all", dependencies=[])
    violations = kit.run(NO_PUBLIC_INGRESS, kit.stack(alb, ok, ssh, all_traffic))
    assert sorted(urn for _, urn in violations) == sorted([ssh.urn, all_traffic.urn])


def test_rule_whose_group_is_not_in_the_stack_is_not_a_load_balancer(kit):
    rule = kit.resource(SG_INGRESS, {"securityGroupId": "sg-elsewhere", "cidrIpv4": "0.0.0.0/0",
                                     "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0}, "x", dependencies=[])
    [(message, _)] = kit.run(NO_PUBLIC_INGRESS, kit.stack(rule))
    assert "security group rule 'x'" in message


def test_unknown_cidr_or_port_is_not_a_violation(kit):
    sg = group(kit, "nodes", [{**ingress(22), "cidrBlocks": [kit.unknown]}, {**ingress(22), "fromPort": kit.unknown}])
    assert kit.run(NO_PUBLIC_INGRESS, kit.stack(sg)) == []
