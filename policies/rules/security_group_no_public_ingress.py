"""Security groups admit the internet only on HTTP/HTTPS, and only in front of load balancers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    PURPOSE_TAG,
    UNKNOWN,
    as_list,
    as_number,
    display_name,
    is_unknown,
    linked_targets,
    of_types,
    props_of,
    purpose_of,
)

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
PUBLIC_PORTS = (80, 443)
LOAD_BALANCER_PURPOSE = "load-balancer"
ALLOWED = (f"0.0.0.0/0 or ::/0 only on tcp {' or '.join(map(str, PUBLIC_PORTS))}, and only for "
           f"load-balancer security groups (tag {PURPOSE_TAG}={LOAD_BALANCER_PURPOSE})")


def _describe(protocol: Any, from_port: Any, to_port: Any) -> tuple[str, bool] | Any:
    """(what the rule opens, whether that is only tcp 80 or 443); UNKNOWN if undecidable."""
    if UNKNOWN in (protocol, from_port, to_port):
        return UNKNOWN
    proto = str(protocol).lower().removesuffix(".0")
    if proto in ("-1", "all"):
        return "all protocols and ports", False
    low, high = as_number(from_port), as_number(to_port)
    ports = "?" if low is None else f"{low:g}" if low == high else f"{low:g}-{high:g}"
    proto = "tcp" if proto == "6" else proto
    return f"{proto} {ports}", proto == "tcp" and low == high and low in PUBLIC_PORTS


def _open_cidrs(*values: Any) -> list[str] | Any:
    cidrs = [c for v in values for c in as_list(v)]
    if any(is_unknown(c) for c in cidrs):
        return UNKNOWN
    return [c for c in cidrs if c in OPEN_CIDRS]


def _ingress(resources: list[Any], groups: list[Any]) -> Iterator[tuple[Any, Any, Any, Any]]:
    """(offending resource, its security group or None, open CIDRs, what is opened); each may be UNKNOWN."""
    for group in groups:
        for entry in as_list(props_of(group).get("ingress")):
            if not isinstance(entry, dict):
                continue
            cidrs = _open_cidrs(entry.get("cidrBlocks"), entry.get("ipv6CidrBlocks"))
            what = _describe(entry.get("protocol"), entry.get("fromPort"), entry.get("toPort"))
            yield group, group, cidrs, what
    for rule in of_types(resources, (SG_RULE,)):
        props = props_of(rule)
        if props.get("type") != "ingress":
            continue
        cidrs = _open_cidrs(props.get("cidrBlocks"), props.get("ipv6CidrBlocks"))
        what = _describe(props.get("protocol"), props.get("fromPort"), props.get("toPort"))
        yield rule, _group_of(rule, groups), cidrs, what
    for rule in of_types(resources, (SG_INGRESS_RULE,)):
        props = props_of(rule)
        cidrs = _open_cidrs(props.get("cidrIpv4"), props.get("cidrIpv6"))
        what = _describe(props.get("ipProtocol"), props.get("fromPort", 0), props.get("toPort", 0))
        yield rule, _group_of(rule, groups), cidrs, what


def _group_of(rule: Any, groups: list[Any]) -> Any:
    found = linked_targets(rule, "securityGroupId", groups, match_props=("id",))
    return found[0] if found else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Report ingress from 0.0.0.0/0 or ::/0 unless tcp 80/443 on a load-balancer group."""
    groups = of_types(args.resources, (SECURITY_GROUP,))
    for offender, group, cidrs, what in _ingress(list(args.resources), groups):
        if cidrs is UNKNOWN or not cidrs or what is UNKNOWN:
            continue
        text, web_only = what
        if web_only and group is not None and purpose_of(group) == LOAD_BALANCER_PURPOSE:
            continue
        name = f"security group '{display_name(group, 'name')}'" if group is not None else (
            f"security group rule '{offender.name}' (security group not found in the stack)")
        opened = text + (" (not a load-balancer security group)" if web_only else "")
        report_violation(f"{name} allows ingress from {', '.join(cidrs)} on {opened}; allowed: {ALLOWED}",
                         offender.urn)


RULE = Rule(
    id="security-group-no-public-ingress",
    description="Security groups allow ingress from 0.0.0.0/0 or ::/0 only on 80/443 to load balancers.",
    severity="high",
    control="AWS FSBP EC2.18, EC2.19",
    kind="stack",
    validate=validate,
    remediation=("Restrict the CIDR to the VPC or a security group reference; put public HTTP(S) behind "
                 "a load balancer whose security group is tagged ml-platform/purpose=load-balancer."),
)
