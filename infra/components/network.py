"""One VPC per platform environment and region: private and public subnets, NAT, flow logs, endpoints."""

from __future__ import annotations

import functools
import ipaddress
import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import Names

# Interface endpoints that keep ML traffic off the internet (com.amazonaws.<region>.<service>).
INTERFACE_ENDPOINTS = (
    "sagemaker.api", "sagemaker.runtime", "sagemaker.featurestore-runtime",
    "ecr.api", "ecr.dkr", "sts", "logs", "monitoring", "kms",
)
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


def subnet_layout(cidr: ipaddress.IPv4Network, az_count: int) -> tuple[list[str], list[str]]:
    """Private subnets take an eighth of the VPC each (up to six); public ones share the last eighth.

    /16 -> private /19s and public /22s; /22 -> private /25s and public /28s (AWS's smallest).
    """
    eighths = list(cidr.subnets(prefixlen_diff=3))
    public = list(eighths[-1].subnets(prefixlen_diff=3))
    return [str(n) for n in eighths[:az_count]], [str(n) for n in public[:az_count]]


@dataclass(frozen=True)
class NetworkArgs:
    """One region's VPC of the platform."""

    names: Names
    region: str
    cidr: ipaddress.IPv4Network
    az_count: int
    nat: Literal["per-az", "single", "none"]
    endpoints_multi_az: bool           # interface endpoints in every AZ, or in the first only
    log_retention_days: int            # of the flow-log group
    logs_key_arn: pulumi.Input[str]    # KMS key of the flow-log group
    organization_id: str | None        # endpoint policies admit its principals (else this account's only)


class Network(pulumi.ComponentResource):
    """Private subnets route out through NAT (per AZ in prod, one in dev, or none); the default security
    group is closed and the default network ACL empty (subnets use explicit ACLs); AWS APIs are reached
    through endpoints whose policies admit only the organisation's principals and resources; SageMaker
    workloads get their own security group. `send_flow_logs` adds flow logs to a KMS-encrypted group."""

    def __init__(
        self,
        name: str,
        args: NetworkArgs,
        provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("ml-platform:network:Network", name, None, opts)
        region, cidr = args.region, args.cidr
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        def named(purpose: str, index: int | None = None) -> str:
            base = args.names.resource(purpose, region)
            return base if index is None else f"{base}-{index}"

        self.vpc = aws.ec2.Vpc(
            named("vpc"), cidr_block=str(cidr), enable_dns_hostnames=True, enable_dns_support=True,
            tags={"Name": named("vpc")}, opts=child,
        )
        aws.ec2.DefaultSecurityGroup(named("default-sg"), vpc_id=self.vpc.id, ingress=[], egress=[], opts=child)
        self._args, self._named, self._child = args, named, child

        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(provider=provider, parent=self)
        ).names
        private_cidrs, public_cidrs = subnet_layout(cidr, args.az_count)
        self.private_subnets, self.public_subnets = [], []
        for index, (private_cidr, public_cidr) in enumerate(zip(private_cidrs, public_cidrs, strict=True)):
            zone = zones.apply(functools.partial(_zone, index=index, region=region))
            self.private_subnets.append(aws.ec2.Subnet(
                named("private", index), vpc_id=self.vpc.id, cidr_block=private_cidr, availability_zone=zone,
                tags={"Name": named("private", index), "kubernetes.io/role/internal-elb": "1"}, opts=child,
            ))
            self.public_subnets.append(aws.ec2.Subnet(
                named("public", index), vpc_id=self.vpc.id, cidr_block=public_cidr, availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": named("public", index), "kubernetes.io/role/elb": "1"}, opts=child,
            ))

        igw = aws.ec2.InternetGateway(named("igw"), vpc_id=self.vpc.id, opts=child)
        public_routes = aws.ec2.RouteTable(
            named("public-routes"), vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}], opts=child,
        )
        for index, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                named("public-routes", index), subnet_id=subnet.id, route_table_id=public_routes.id, opts=child
            )

        nat_ids = self._nat_gateways(args.nat, named, pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[igw])))  # AWS: NAT and EIPs need the IGW first
        self.nat_gateway_ids = nat_ids
        self.private_route_tables = []
        for index, subnet in enumerate(self.private_subnets):
            nat_id = nat_ids[index % len(nat_ids)] if nat_ids else None
            table = aws.ec2.RouteTable(
                named("private-routes", index), vpc_id=self.vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_id}] if nat_id else [], opts=child,
            )
            aws.ec2.RouteTableAssociation(
                named("private-routes", index), subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            self.private_route_tables.append(table)

        self._network_acls(str(cidr), named, child)
        self._endpoints(args, named, child)
        self._sagemaker_security_group(named, child)
        self.register_outputs({
            "vpc_id": self.vpc.id,
            "private_subnet_ids": [s.id for s in self.private_subnets],
            "public_subnet_ids": [s.id for s in self.public_subnets],
            "sagemaker_security_group_id": self.sagemaker_security_group.id,
            "s3_endpoint_id": self.gateway_endpoints["s3"].id,
        })

    def send_flow_logs(self, role_arn: pulumi.Input[str]) -> aws.ec2.FlowLog:
        """Flow logs (ALL traffic, 60 s) to a KMS-encrypted log group, delivered by `role_arn` (which
        exists only once the workload boundary, built from this network, does)."""
        args, named, child = self._args, self._named, self._child
        group = aws.cloudwatch.LogGroup(
            named("flow-logs"),
            name=args.names.flow_log_group(args.region),
            kms_key_id=args.logs_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        return aws.ec2.FlowLog(
            named("flow-log"), vpc_id=self.vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
            log_destination=group.arn, iam_role_arn=role_arn, max_aggregation_interval=60,
            opts=child,
        )

    def _nat_gateways(self, strategy: str, named, child) -> list[pulumi.Output[str]]:
        """per-az: one NAT per public subnet; single: one in the first AZ; none: no egress at all."""
        count = {"per-az": len(self.public_subnets), "single": 1, "none": 0}[strategy]
        ids = []
        for index in range(count):
            eip = aws.ec2.Eip(named("nat-ip", index), domain="vpc", opts=child)
            nat = aws.ec2.NatGateway(
                named("nat", index), allocation_id=eip.id, subnet_id=self.public_subnets[index].id, opts=child
            )
            ids.append(nat.id)
        return ids

    def _network_acls(self, vpc_cidr: str, named, child) -> None:
        """The default ACL is emptied (denies all, serves no subnet); each kind of subnet gets its own."""
        aws.ec2.DefaultNetworkAcl(named("default-acl"), default_network_acl_id=self.vpc.default_network_acl_id,
                                  ingress=[], egress=[], opts=child)
        for kind, subnets in (("private", self.private_subnets), ("public", self.public_subnets)):
            aws.ec2.NetworkAcl(
                named(f"{kind}-acl"), vpc_id=self.vpc.id, subnet_ids=[s.id for s in subnets],
                ingress=network_acl_ingress(vpc_cidr, public=kind == "public"),
                egress=[{"rule_no": 100, "action": "allow", "protocol": "-1", "cidr_block": "0.0.0.0/0",
                         "from_port": 0, "to_port": 0}],
                tags={"Name": named(f"{kind}-acl")}, opts=child,
            )

    def _endpoints(self, args: NetworkArgs, named, child) -> None:
        region, account, org = args.region, args.names.account_id, args.organization_id
        route_table_ids = [t.id for t in self.private_route_tables]
        self.gateway_endpoints = {
            service: aws.ec2.VpcEndpoint(
                named(f"{service}-endpoint"), vpc_id=self.vpc.id, service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway", route_table_ids=route_table_ids,
                policy=json.dumps(documents.gateway_endpoint_policy(service, region, account, org)), opts=child,
            )
            for service in GATEWAY_ENDPOINTS
        }
        vpc_cidr, multi_az = str(args.cidr), args.endpoints_multi_az
        self.endpoint_security_group = aws.ec2.SecurityGroup(
            named("endpoints-sg"), vpc_id=self.vpc.id, description="HTTPS from inside the VPC to AWS endpoints",
            ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": [vpc_cidr],
                      "description": "HTTPS from the VPC"}],
            egress=[], opts=child,
        )
        subnets = self.private_subnets if multi_az else self.private_subnets[:1]
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                named(f"{service.replace('.', '-')}-endpoint"), vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}", vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=[s.id for s in subnets],
                security_group_ids=[self.endpoint_security_group.id],
                policy=json.dumps(documents.interface_endpoint_policy(account, org)), opts=child,
            )

    def _sagemaker_security_group(self, named, child) -> None:
        """SageMaker jobs, models and endpoints: traffic among themselves (distributed training), HTTPS
        to the interface endpoints and to S3 through its gateway endpoint; nothing else."""
        self.sagemaker_security_group = aws.ec2.SecurityGroup(
            named("sagemaker-sg"), vpc_id=self.vpc.id, description="SageMaker workloads of the platform",
            ingress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True,
                      "description": "between the workloads' instances"}],
            egress=[
                {"protocol": "-1", "from_port": 0, "to_port": 0, "self": True,
                 "description": "between the workloads' instances"},
                {"protocol": "tcp", "from_port": 443, "to_port": 443,
                 "security_groups": [self.endpoint_security_group.id], "description": "AWS interface endpoints"},
                {"protocol": "tcp", "from_port": 443, "to_port": 443,
                 "prefix_list_ids": [self.gateway_endpoints["s3"].prefix_list_id],
                 "description": "S3 through its gateway endpoint"},
            ],
            opts=child,
        )


# Return traffic from anywhere arrives on ephemeral ports; 3389 (RDP) is left out (22 is below them).
EPHEMERAL_RANGES = ((1024, 3388), (3390, 65535))


def network_acl_ingress(vpc_cidr: str, public: bool) -> list[aws.ec2.NetworkAclIngressArgsDict]:
    """Everything from inside the VPC; from anywhere only return traffic on ephemeral ports (responses of
    S3, NAT and endpoints), never an admin port; public subnets also take HTTPS (load balancers)."""
    rules: list[aws.ec2.NetworkAclIngressArgsDict] = [
        {"rule_no": 100, "action": "allow", "protocol": "-1", "cidr_block": vpc_cidr, "from_port": 0, "to_port": 0}]
    rules += [{"rule_no": 200 + i, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0",
               "from_port": low, "to_port": high} for i, (low, high) in enumerate(EPHEMERAL_RANGES)]
    if public:
        rules.append({"rule_no": 300, "action": "allow", "protocol": "tcp", "cidr_block": "0.0.0.0/0",
                      "from_port": 443, "to_port": 443})
    return rules


def _zone(names: list[str], *, index: int, region: str) -> str:
    if index >= len(names):
        raise ValueError(f"{region} has {len(names)} available AZs; network.azCount asks for more")
    return names[index]

