"""Private subnets never give instances a public IP address."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    OPEN_CIDRS,
    UNKNOWN,
    as_list,
    display_name,
    is_true,
    is_unknown,
    linked_targets,
    of_types,
    props_of,
)

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
REQUIRED = ("mapPublicIpOnLaunch unset or false on subnets without a default route to an internet gateway "
            "(public IPs there are reachable once any route or NAT change exposes them, and bypass the NAT)")


def _to_internet_gateway(source: Any, gateways: list[Any]) -> bool | Any:
    """Whether a route (resource or inline entry, linked through ``gatewayId``) goes to an internet gateway."""
    gateway = props_of(source).get("gatewayId") if not isinstance(source, dict) else source.get("gatewayId")
    if not isinstance(source, dict) and linked_targets(source, "gatewayId", gateways, match_props=("id",)):
        return True
    if is_unknown(gateway):
        return UNKNOWN
    return isinstance(gateway, str) and gateway.startswith("igw-")


def _default_route(props: dict[str, Any]) -> bool | Any:
    destinations = [props.get("cidrBlock"), props.get("destinationCidrBlock"),
                    props.get("ipv6CidrBlock"), props.get("destinationIpv6CidrBlock")]
    if any(is_unknown(d) for d in destinations):
        return UNKNOWN
    return any(d in OPEN_CIDRS for d in destinations)


def _public_tables(resources: list[Any]) -> dict[str, Any]:
    """Each route table's URN -> True (default route to an IGW), False, or UNKNOWN."""
    tables = of_types(resources, (ROUTE_TABLE,))
    gateways = of_types(resources, (INTERNET_GATEWAY,))
    verdict: dict[str, Any] = {t.urn: False for t in tables}
    for table in tables:
        # under `pulumi preview` an inline route's gatewayId is unknown, but its dependency names the IGW
        routes_to_igw = bool(linked_targets(table, "routes", gateways, match_props=()))
        for entry in as_list(props_of(table).get("routes")):
            if isinstance(entry, dict):
                to_igw = _to_internet_gateway(entry, gateways)
                _merge(verdict, table.urn, _default_route(entry), True if to_igw is UNKNOWN and routes_to_igw
                       else to_igw)
    for route in of_types(resources, (ROUTE,)):
        for table in linked_targets(route, "routeTableId", tables, match_props=("id",)):
            _merge(verdict, table.urn, _default_route(props_of(route)), _to_internet_gateway(route, gateways))
    return verdict


def _merge(verdict: dict[str, Any], urn: str, default: Any, to_igw: Any) -> None:
    if verdict[urn] is True:
        return
    if default is True and to_igw is True:
        verdict[urn] = True
    elif UNKNOWN in (default, to_igw) and default is not False and to_igw is not False:
        verdict[urn] = UNKNOWN


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Subnets whose route tables have no default route to an internet gateway don't map public IPs."""
    resources = list(args.resources)
    public = _public_tables(resources)
    tables = of_types(resources, (ROUTE_TABLE,))
    associations = of_types(resources, (ASSOCIATION,))
    for subnet in of_types(resources, (SUBNET,)):
        props = props_of(subnet)
        if not is_true(props.get("mapPublicIpOnLaunch")):
            continue
        own = [a for a in associations if subnet in linked_targets(a, "subnetId", [subnet], match_props=("id",))]
        routed = [t for a in own for t in linked_targets(a, "routeTableId", tables, match_props=("id",))]
        if own and len(routed) < len(own):
            continue  # a route table outside the stack (or unknown): can't tell
        verdicts = [public[t.urn] for t in routed]
        if True in verdicts or UNKNOWN in verdicts:
            continue
        report_violation(f"subnet '{display_name(subnet)}' has no route to an internet gateway (private) but "
                         f"sets mapPublicIpOnLaunch=true; required: {REQUIRED}", subnet.urn)


RULE = Rule(
    id="subnet-private-no-public-ip",
    description="Private subnets (no default route to an internet gateway) don't auto-assign public IPs.",
    severity="medium",
    control="AWS FSBP EC2.15",
    kind="stack",
    validate=validate,
    remediation="Leave map_public_ip_on_launch unset (false) on private subnets.",
)
