"""What a planned stack costs per month, from the dated price sheets in ``prices/``.

Every resource of a plan gets an estimate with two figures, or is listed as unpriced with the reason:

- **idle**: nothing running and nothing stored: always-on resources (NAT gateways, endpoints, keys,
  alarms, dashboards, control planes, tracking servers) and scalable ones at their configured minimum;
- **at max**: scalable resources at their configured maximum, the rest as idle.

Charges that depend on use (GB stored, processed or ingested, requests, notifications) are not summed:
each estimate lists them with their unit price, so a reader can add their own volumes. A type with no
price model, or a model whose entry is missing from the region's sheet, is *unpriced*, never zero. A
price of 0 in a sheet is a documented "no charge" with its source.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PRICES = Path(__file__).resolve().parents[1] / "prices"
ASSUMPTIONS = (
    "on-demand list prices in USD, without tax, free tiers, credits or savings plans",
    "a month is the price sheet's hoursPerMonth (730 hours)",
    "idle: always-on resources running, scalable resources at their configured minimum, no data stored, "
    "no requests",
    "at max: scalable resources at their configured maximum (usage charges still excluded)",
    "usage charges (per GB, request or notification) are listed per resource with their unit price, not summed",
)


class PriceSheetError(ValueError):
    """A price sheet that cannot be trusted: the message names the file and the entry."""


@dataclass(frozen=True)
class Price:
    key: str
    price: float
    unit: str
    source: str
    note: str | None = None
    file: str = ""

    def describe(self) -> str:
        return f"{self.price:g} USD per {self.unit} ({self.key})"


@dataclass(frozen=True)
class PriceSheet:
    """Every entry of one region, merged from its files (``prices/aws-<region>*.yaml``)."""

    region: str
    currency: str
    recorded: str                    # the oldest date of the region's files
    hours_per_month: float
    entries: Mapping[str, Price]
    files: tuple[str, ...]


def load_sheets(directory: Path = PRICES) -> dict[str, PriceSheet]:
    """``{region: sheet}``; refuses a file without date, region or currency, an entry without a
    non-negative price, a unit or a source, and an entry priced twice for a region."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PriceSheetError(f"{path}: cannot be read: {exc}") from None
        if not isinstance(data, dict):
            raise PriceSheetError(f"{path}: expected a mapping with region, currency, recorded, entries")
        for key in ("region", "currency", "recorded", "hoursPerMonth", "entries"):
            if not data.get(key):
                raise PriceSheetError(f"{path}: missing {key!r}")
        region = str(data["region"])
        merged = found.setdefault(region, {"currency": data["currency"], "recorded": [], "hours": [],
                                           "entries": {}, "files": []})
        if data["currency"] != merged["currency"]:
            raise PriceSheetError(f"{path}: currency {data['currency']} differs from {merged['currency']} of "
                                  f"{merged['files'][0]}")
        merged["recorded"].append(str(data["recorded"]))
        merged["hours"].append(float(data["hoursPerMonth"]))
        merged["files"].append(path.name)
        for key, entry in data["entries"].items():
            merged["entries"][key] = _price(path, key, entry, merged["entries"].get(key))
    sheets = {}
    for region, merged in found.items():
        if len(set(merged["hours"])) > 1:
            raise PriceSheetError(f"prices for {region} disagree on hoursPerMonth: {', '.join(merged['files'])}")
        sheets[region] = PriceSheet(region, merged["currency"], min(merged["recorded"]), merged["hours"][0],
                                    merged["entries"], tuple(merged["files"]))
    return sheets


def _price(path: Path, key: str, entry: Any, earlier: Price | None) -> Price:
    if earlier is not None:
        raise PriceSheetError(f"{path}: {key!r} is already priced in {earlier.file}; price it once per region")
    if not isinstance(entry, dict):
        raise PriceSheetError(f"{path}: entry {key!r} is not a mapping of price, unit, source")
    price = entry.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
        raise PriceSheetError(f"{path}: entry {key!r} has price {price!r}; expected a number >= 0")
    for required in ("unit", "source"):
        if not entry.get(required):
            raise PriceSheetError(f"{path}: entry {key!r} has no {required}")
    return Price(key, float(price), str(entry["unit"]), str(entry["source"]), entry.get("note"), path.name)


@functools.cache
def default_sheets() -> dict[str, PriceSheet]:
    return load_sheets(PRICES)


# -- price models ---------------------------------------------------------------------------------

class Unpriced(Exception):
    """Why a resource has no estimate."""


@dataclass(frozen=True)
class Line:
    idle: float
    at_max: float
    basis: str
    usage: tuple[str, ...] = ()


class Pricing:
    """Price lookups of one resource in its region's sheet; a missing entry makes it unpriced."""

    def __init__(self, sheet: PriceSheet | None, region: str):
        self.sheet, self.region = sheet, region

    def entry(self, key: str) -> Price:
        if self.sheet is None:
            raise Unpriced(f"no price sheet for {self.region} (prices/aws-{self.region}*.yaml)")
        if key not in self.sheet.entries:
            raise Unpriced(f"no entry {key!r} in the price sheet of {self.region}")
        return self.sheet.entries[key]

    def hourly(self, key: str, idle_count: float = 1, max_count: float | None = None, *usage: str) -> Line:
        price, hours = self.entry(key), self.hours
        at_max = idle_count if max_count is None else max_count
        count = f"{idle_count:g}" if max_count is None else f"{idle_count:g} to {max_count:g}"
        return Line(price.price * hours * idle_count, price.price * hours * at_max,
                    f"{count} × {price.describe()} × {hours:g} h", self.usage(*usage))

    def monthly(self, key: str, count: float = 1, *usage: str) -> Line:
        price = self.entry(key)
        return Line(price.price * count, price.price * count, f"{count:g} × {price.describe()}", self.usage(*usage))

    def usage_only(self, *keys: str) -> Line:
        return Line(0.0, 0.0, "usage only", self.usage(*keys))

    def no_charge(self, key: str) -> Line:
        price = self.entry(key)
        if price.price:
            raise PriceSheetError(f"{price.file}: {key!r} is used as 'no charge' but costs {price.price}")
        return Line(0.0, 0.0, f"no charge ({key})")

    def usage(self, *keys: str) -> tuple[str, ...]:
        return tuple(self.entry(key).describe() for key in keys)

    @property
    def hours(self) -> float:
        assert self.sheet is not None
        return self.sheet.hours_per_month


Model = Callable[[Mapping[str, Any], Pricing], Line]


def _endpoint(inputs: Mapping[str, Any], p: Pricing) -> Line:
    if inputs.get("vpcEndpointType") == "Gateway":
        return p.no_charge("vpc-endpoint-gateway")
    return p.hourly("vpc-endpoint-interface", len(inputs.get("subnetIds") or [None]), None, "vpc-endpoint-data")


EKS_DEFAULT_DISK_GIB = 20
"""Root volume of a managed node group without a launch template or ``diskSize`` (CreateNodegroup's default)."""


def _node_group(inputs: Mapping[str, Any], p: Pricing) -> Line:
    """Its instances and each instance's EBS volumes (from the planned launch template, or ``diskSize``),
    at the minimum node count idle and the maximum at max."""
    scaling = inputs.get("scalingConfig") or {}
    types = inputs.get("instanceTypes") or []
    if not types or "minSize" not in scaling or "maxSize" not in scaling:
        raise Unpriced("node group without instanceTypes and scalingConfig min/max")
    low, high = float(scaling["minSize"]), float(scaling["maxSize"])
    compute = p.hourly(f"ec2/{types[0]}", low, high)
    per_node, volumes = 0.0, []
    for size, kind, origin in _node_volumes(inputs):
        price = p.entry(f"ebs/{kind}")
        per_node += price.price * size
        volumes.append(f"{size:g} GiB × {price.describe()} per node ({origin})")
    return Line(compute.idle + per_node * low, compute.at_max + per_node * high,
                " + ".join([compute.basis, *volumes]))


def _node_volumes(inputs: Mapping[str, Any]) -> list[tuple[float, str, str]]:
    """``(GiB, volume type, where it is stated)`` of the EBS volumes each node of a node group gets."""
    template = inputs.get("launchTemplate")
    if not template:
        size = float(inputs.get("diskSize") or EKS_DEFAULT_DISK_GIB)
        origin = "diskSize" if inputs.get("diskSize") else f"EKS's default {EKS_DEFAULT_DISK_GIB} GiB"
        return [(size, "gp3", f"{origin}; EKS's generated launch template, type assumed gp3")]
    if PLANNED_TEMPLATE not in template:
        raise Unpriced(f"launch template {template.get('id') or template.get('name')} is not in the plan: the "
                       f"size and type of its nodes' volumes are unknown")
    planned = template[PLANNED_TEMPLATE]
    volumes = []
    for mapping in planned.get("blockDeviceMappings") or []:
        ebs, device = mapping.get("ebs"), mapping.get("deviceName", "?")
        if not ebs:
            continue   # instance store or no device: part of the instance price
        if not ebs.get("volumeSize"):
            raise Unpriced(f"launch template {planned.get('name', '')} maps {device} without volumeSize (the "
                           f"AMI snapshot's size, unknown to the plan)")
        if not ebs.get("volumeType"):
            raise Unpriced(f"launch template {planned.get('name', '')} maps {device} without volumeType (then "
                           f"EC2's default applies, which the plan does not state)")
        kind = str(ebs["volumeType"])
        if kind == "gp3" and (float(ebs.get("iops") or 3000) > 3000 or float(ebs.get("throughput") or 125) > 125):
            raise Unpriced(f"launch template {planned.get('name', '')} gives {device} gp3 IOPS or throughput above "
                           f"the included 3,000 IOPS / 125 MiB/s, which the price sheet does not price")
        volumes.append((float(ebs["volumeSize"]), kind, f"launch template {device}"))
    if not volumes:
        raise Unpriced(f"launch template {planned.get('name', '')} maps no EBS volume: each node's root volume is "
                       f"the AMI's, whose size and type the plan does not state")
    return volumes


NODE_GROUP, LAUNCH_TEMPLATE = "aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate"
PLANNED_TEMPLATE = "planned"
"""Key under a node group's ``launchTemplate`` input where ``estimate`` puts the planned template's inputs."""


def _with_planned_template(resource: Any, by_urn: Mapping[str, Any]) -> Mapping[str, Any]:
    """A node group's inputs with its launch template's planned inputs (linked by the plan's dependency)."""
    template = resource.inputs.get("launchTemplate")
    linked = [by_urn[urn] for urn in resource.property_dependencies.get("launchTemplate", []) if urn in by_urn]
    if not template or len(linked) != 1:
        return resource.inputs
    return {**resource.inputs, "launchTemplate": {**template, PLANNED_TEMPLATE: linked[0].inputs}}


def _tracking_server(inputs: Mapping[str, Any], p: Pricing) -> Line:
    return p.hourly(f"sagemaker-mlflow/{inputs.get('trackingServerSize', 'Small')}")


def _free(key: str) -> Model:
    return lambda inputs, p: p.no_charge(key)


def _usage(*keys: str) -> Model:
    return lambda inputs, p: p.usage_only(*keys)


NO_CHARGE: dict[str, tuple[str, ...]] = {
    "vpc": ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway",
            "aws:ec2/routeTable:RouteTable", "aws:ec2/routeTableAssociation:RouteTableAssociation",
            "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            "aws:ec2/networkAcl:NetworkAcl", "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"),
    "iam": ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider"),
    "kms/alias": ("aws:kms/alias:Alias",),
    "s3-configuration": tuple(f"aws:s3/{t}" for t in (
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucketLogging:BucketLogging",
        "bucketOwnershipControls:BucketOwnershipControls", "bucketPolicy:BucketPolicy",
        "bucketPublicAccessBlock:BucketPublicAccessBlock", "bucketReplicationConfig:BucketReplicationConfig",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketVersioning:BucketVersioning")),
    "ecr-configuration": ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
                          "aws:ecr/replicationConfiguration:ReplicationConfiguration"),
    "sagemaker-model-registry": ("aws:sagemaker/modelPackageGroup:ModelPackageGroup",
                                 "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
                                 "aws:sagemaker/modelCard:ModelCard"),
    "eventbridge-aws-events": ("aws:cloudwatch/eventRule:EventRule",),
    "glue-configuration": ("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",),
    "apigateway-configuration": tuple(f"aws:apigateway/{t}" for t in (
        "restApi:RestApi", "resource:Resource", "method:Method", "integration:Integration",
        "methodResponse:MethodResponse", "integrationResponse:IntegrationResponse", "deployment:Deployment",
        "methodSettings:MethodSettings", "domainName:DomainName", "basePathMapping:BasePathMapping",
        "account:Account")),
    "acm-public-certificate": ("aws:acm/certificate:Certificate",
                               "aws:acm/certificateValidation:CertificateValidation"),
}

MODELS: dict[str, Model] = {
    "aws:ec2/natGateway:NatGateway": lambda i, p: p.hourly("nat-gateway", 1, None, "nat-gateway-data"),
    "aws:ec2/eip:Eip": lambda i, p: p.hourly("public-ipv4"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:ec2/flowLog:FlowLog": _usage("cloudwatch-logs-ingestion"),
    "aws:cloudwatch/logGroup:LogGroup": _usage("cloudwatch-logs-ingestion", "cloudwatch-logs-storage"),
    "aws:kms/key:Key": lambda i, p: p.monthly("kms/key"),
    "aws:s3/bucket:Bucket": _usage("s3-standard"),
    "aws:ecr/repository:Repository": _usage("ecr-storage"),
    "aws:sns/topic:Topic": _usage("sns-publish"),
    "aws:sns/topicPolicy:TopicPolicy": _free("sns-configuration"),
    "aws:sns/topicSubscription:TopicSubscription": _usage("sns-email"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda i, p: p.monthly("cloudwatch-alarm"),
    "aws:cloudwatch/dashboard:Dashboard": lambda i, p: p.monthly("cloudwatch-dashboard"),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": _tracking_server,
    "aws:athena/workgroup:Workgroup": _usage("athena-query"),
    "aws:glue/crawler:Crawler": _usage("glue-crawler"),
    "aws:glue/catalogDatabase:CatalogDatabase": _usage("glue-catalog-objects"),
    "aws:eks/cluster:Cluster": lambda i, p: p.hourly("eks-cluster"),
    NODE_GROUP: _node_group,
    LAUNCH_TEMPLATE: _free("ec2-launch-template"),    # its volumes are priced on the node groups that launch it
    "aws:apigateway/stage:Stage": _usage("apigateway-rest-requests"),
    "aws:scheduler/schedule:Schedule": _usage("eventbridge-scheduler-invocations"),
    **{token: _free(key) for key, tokens in NO_CHARGE.items() for token in tokens},
}

# Front doors of models served on Kubernetes (issue 12): an internal NLB per model and region.
NO_CHARGE.update({"elb-configuration": ("aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener"),
                  "apigateway-vpc-link": ("aws:apigatewayv2/vpcLink:VpcLink",)})
MODELS.update({
    "aws:lb/loadBalancer:LoadBalancer": lambda i, p: p.hourly("nlb", 1, None, "nlb-lcu"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _free("vpc"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _free("vpc"),
    **{token: _free(key) for key in ("elb-configuration", "apigateway-vpc-link") for token in NO_CHARGE[key]},
})


# -- estimates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """One resource's monthly cost, or why it has none (``unpriced``)."""

    urn: str
    type: str
    name: str
    region: str
    idle: float | None = None
    at_max: float | None = None
    basis: str = ""
    usage: tuple[str, ...] = ()
    unpriced: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.unpriced:
            return {"urn": self.urn, "type": self.type, "name": self.name, "region": self.region,
                    "unpriced": self.unpriced}
        return {"urn": self.urn, "type": self.type, "name": self.name, "region": self.region,
                "idleMonthly": round(self.idle or 0.0, 2), "maxMonthly": round(self.at_max or 0.0, 2),
                "basis": self.basis, "usage": list(self.usage)}


@dataclass
class StackCost:
    stack: str
    estimates: list[Estimate] = field(default_factory=list)
    sheets: dict[str, PriceSheet] = field(default_factory=dict)   # the regions the stack uses

    @property
    def priced(self) -> list[Estimate]:
        return [e for e in self.estimates if not e.unpriced]

    @property
    def unpriced(self) -> list[Estimate]:
        return [e for e in self.estimates if e.unpriced]

    @property
    def idle(self) -> float:
        return round(sum(e.idle or 0.0 for e in self.priced), 2)

    @property
    def at_max(self) -> float:
        return round(sum(e.at_max or 0.0 for e in self.priced), 2)

    def by_type(self) -> list[tuple[str, int, float, float]]:
        """``(type, count, idle, at max)`` of the priced resources, costliest first."""
        rows: dict[str, list[float]] = {}
        for e in self.priced:
            row = rows.setdefault(e.type, [0, 0.0, 0.0])
            row[0] += 1
            row[1] += e.idle or 0.0
            row[2] += e.at_max or 0.0
        return sorted(((t, int(c), round(i, 2), round(m, 2)) for t, (c, i, m) in rows.items()),
                      key=lambda r: (-r[3], r[0]))

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "currency": "USD", "idleMonthly": self.idle, "maxMonthly": self.at_max,
            "priceSheets": {region: {"recorded": sheet.recorded, "files": list(sheet.files)}
                            for region, sheet in sorted(self.sheets.items())},
            "assumptions": list(ASSUMPTIONS),
            "resources": [e.as_json() for e in sorted(self.priced, key=lambda e: e.urn)],
            "unpriced": [e.as_json() for e in sorted(self.unpriced, key=lambda e: e.urn)],
        }


def estimate(stack: str, resources: Iterable[Any], sheets: Mapping[str, PriceSheet] | None = None) -> StackCost:
    """The cost of a plan's captured resources (components, providers and reads cost nothing)."""
    sheets = default_sheets() if sheets is None else sheets
    resources = list(resources)
    regions = {r.urn: r.inputs.get("region") for r in resources if r.type.startswith("pulumi:providers:")}
    templates = {r.urn: r for r in resources if r.type == LAUNCH_TEMPLATE}
    result = StackCost(stack)
    for resource in resources:
        if not resource.custom or resource.read or resource.type.startswith("pulumi:"):
            continue
        region = str(resource.inputs.get("region") or regions.get(resource.provider or "") or "unknown")
        sheet = sheets.get(region)
        if sheet is not None:
            result.sheets[region] = sheet
        common = {"urn": resource.urn, "type": resource.type, "name": resource.name, "region": region}
        model = MODELS.get(resource.type)
        if model is None:
            result.estimates.append(Estimate(**common, unpriced=f"no price model for {resource.type}"))
            continue
        try:
            inputs = _with_planned_template(resource, templates) if resource.type == NODE_GROUP else resource.inputs
            line = model(inputs, Pricing(sheet, region))
        except Unpriced as reason:
            result.estimates.append(Estimate(**common, unpriced=str(reason)))
            continue
        result.estimates.append(Estimate(**common, idle=line.idle, at_max=line.at_max, basis=line.basis,
                                         usage=line.usage))
    return result


def summary_cell(cost: StackCost) -> str:
    """``$70–$70 (+3 unpriced)``: what `mlp plan`'s summary shows per stack."""
    text = f"${cost.idle:,.0f}–${cost.at_max:,.0f}"
    return text + (f" (+{len(cost.unpriced)} unpriced)" if cost.unpriced else "")
