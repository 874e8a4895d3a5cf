"""No network ACL admits the internet on remote-administration ports (SSH 22, RDP 3389)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    ADMIN_PORTS,
    OPEN_CIDRS,
    UNKNOWN,
    as_list,
    as_number,
    display_name,
    index_links,
    is_known,
    is_true,
    is_unknown,
    linked_targets,
    of_types,
    opens_port,
    props_of,
)

VPC = "aws:ec2/vpc:Vpc"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
DEFAULT_NETWORK_ACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
PROTOCOLS = ("tcp", "udp")  # RDP listens on both; CIS AWS 5.1 counts tcp, udp and all
REQUIRED = (f"no inbound allow from {' or '.join(OPEN_CIDRS)} covering tcp or udp {' or '.join(map(str, ADMIN_PORTS))} "
            "ahead of a deny (lower rule number), and every VPC's default network ACL managed "
            "(ec2.DefaultNetworkAcl: AWS's default admits all inbound traffic)")

Entry = tuple[Any, str, Any, Any, Any, Any, Any]
"""(resource, action, rule number, CIDR, protocol, from port, to port) of one inbound entry."""


def _inline_entries(acl: Any) -> Iterator[Entry]:
    for entry in as_list(props_of(acl).get("ingress")):
        if isinstance(entry, dict):
            for cidr in (entry.get("cidrBlock"), entry.get("ipv6CidrBlock")):
                if cidr:
                    yield (acl, str(entry.get("action", UNKNOWN)).lower(), entry.get("ruleNo"), cidr,
                           entry.get("protocol"), entry.get("fromPort"), entry.get("toPort"))


def _rule_entry(rule: Any) -> Iterator[Entry]:
    props = props_of(rule)
    if is_true(props.get("egress")) or is_unknown(props.get("egress")):
        return
    for cidr in (props.get("cidrBlock"), props.get("ipv6CidrBlock")):
        if cidr:
            yield (rule, str(props.get("ruleAction", UNKNOWN)).lower(), props.get("ruleNumber"), cidr,
                   props.get("protocol"), props.get("fromPort"), props.get("toPort"))


def first_match(entries: list[Entry], cidr: str, port: int, protocol: str = "tcp") -> Entry | None | Any:
    """The entry that decides inbound ``protocol`` ``port`` from ``cidr`` (lowest rule number first); UNKNOWN if
    undecidable."""
    def number(entry: Entry) -> float:
        value = as_number(entry[2])
        return value if value is not None else -1.0
    for entry in sorted(entries, key=number):
        _, action, rule_no, entry_cidr, entry_protocol, low, high = entry
        if is_unknown(entry_cidr) or is_unknown(rule_no):
            return UNKNOWN
        if entry_cidr != cidr:
            continue  # a narrower range neither opens nor closes the whole internet
        matches = opens_port(entry_protocol, low, high, port, protocol)
        if matches is UNKNOWN or (matches and action not in ("allow", "deny")):
            return UNKNOWN
        if matches:
            return entry
    return None


def _provider_urn(resource: Any) -> str | None:
    provider = getattr(resource, "provider", None)
    return provider.urn if provider is not None else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Report ACLs whose deciding inbound entry for 0.0.0.0/0 or ::/0 on 22/3389 allows, and unmanaged defaults."""
    acls = of_types(args.resources, (NETWORK_ACL, DEFAULT_NETWORK_ACL))
    rules = of_types(args.resources, (NETWORK_ACL_RULE,))
    for acl in acls:
        entries = list(_inline_entries(acl))
        entries += [e for r in rules if acl in linked_targets(r, "networkAclId", [acl], match_props=("id",))
                    for e in _rule_entry(r)]
        for cidr, port, protocol in itertools.product(OPEN_CIDRS, ADMIN_PORTS, PROTOCOLS):
            decided = first_match(entries, cidr, port, protocol)
            if isinstance(decided, tuple) and decided[1] == "allow":
                report_violation(f"network ACL '{acl.name}' allows inbound {protocol} {port} from {cidr} "
                                 f"(rule {as_number(decided[2]) or 0:g}); required: {REQUIRED}", decided[0].urn)
    vpcs = of_types(args.resources, (VPC,))
    defaults = of_types(args.resources, (DEFAULT_NETWORK_ACL,))
    managed = index_links(defaults, "defaultNetworkAclId", vpcs, match_props=("defaultNetworkAclId",))
    linked = {d.urn for ds in managed.values() for d in ds}
    # a default ACL whose defaultNetworkAclId is unknown (and not linked) may be any VPC's of its provider
    unresolved = [d for d in defaults if d.urn not in linked and not is_known(props_of(d).get("defaultNetworkAclId"))]
    for vpc in vpcs:
        if managed[vpc.urn]:
            continue
        claim = next((d for d in unresolved if _provider_urn(d) == _provider_urn(vpc)), None)
        if claim is not None:
            unresolved.remove(claim)
            continue
        report_violation(f"VPC '{display_name(vpc)}' leaves its default network ACL unmanaged (it allows all "
                         f"inbound traffic, 22 and 3389 included); required: {REQUIRED}", vpc.urn)


RULE = Rule(
    id="network-acl-no-public-admin-ports",
    description="Network ACLs (the VPCs' defaults included) don't admit 0.0.0.0/0 or ::/0 on ports 22 or 3389.",
    severity="high",
    control="AWS FSBP EC2.21",
    kind="stack",
    validate=validate,
    remediation=("Manage each VPC's default network ACL (ec2.DefaultNetworkAcl) and deny or narrow inbound "
                 "22/3389; reach instances through SSM Session Manager instead."),
)
