"""Pulumi mocks that answer like the providers would: ids, ARNs, names and invoke results.

Without computed outputs (arn, bucket, name ...), inputs that depend on them silently vanish under
mocks, and policies would judge a graph that `pulumi up` never builds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pulumi

# Resource id prefixes of EC2-like services, as AWS prints them.
_ID_PREFIX = {
    "Vpc": "vpc", "Subnet": "subnet", "InternetGateway": "igw", "RouteTable": "rtb", "NatGateway": "nat",
    "Eip": "eipalloc", "SecurityGroup": "sg", "DefaultSecurityGroup": "sg", "VpcEndpoint": "vpce",
    "FlowLog": "fl", "RouteTableAssociation": "rtbassoc", "NetworkAcl": "acl", "LaunchTemplate": "lt",
}
_GLOBAL_SERVICES = {"iam", "s3", "cloudfront", "route53", "organizations"}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:length]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class PlanMocks(pulumi.runtime.Mocks):
    """Deterministic, realistic provider answers.

    ``provider_config`` maps a provider reference (``urn::id``) to that provider's inputs, so resources
    learn their region and account from the provider they were registered with.
    ``stack_outputs`` answers StackReferences: ``{stack name: outputs}``.
    """

    def __init__(self, stack_outputs: dict[str, dict[str, Any]] | None = None,
                 default_region: str = "us-east-1", default_account: str = "123456789012"):
        self.stack_outputs = stack_outputs or {}
        self.provider_config: dict[str, dict[str, Any]] = {}
        self.default_region, self.default_account = default_region, default_account
        self.unknown_invokes: set[str] = set()

    # -- where a resource lives -------------------------------------------------------------
    def _location(self, provider_ref: str | None, inputs: dict[str, Any]) -> tuple[str, str]:
        config = self.provider_config.get(provider_ref or "", {})
        region = inputs.get("region") or config.get("region") or self.default_region
        accounts = config.get("allowedAccountIds") or [self.default_account]
        if isinstance(accounts, str):  # provider inputs arrive JSON-encoded
            accounts = json.loads(accounts)
        return str(region), str(accounts[0])

    # -- resources ------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        if args.custom is False:  # a component; reads (custom=None) and custom resources go on
            return None, inputs
        if typ.startswith("pulumi:providers:"):
            return str(uuid.UUID(_digest(typ, name, length=32))), inputs
        if typ == "pulumi:pulumi:StackReference":
            stack = inputs.get("name", name)
            return stack, {"name": stack, "outputs": self._reference(stack), "secretOutputNames": []}
        if typ.startswith("kubernetes:"):
            return self._kubernetes(name, inputs)
        region, account = self._location(args.provider, inputs)
        special = _SPECIAL.get(typ)
        if special:
            return special(name, inputs, region, account)
        return self._generic(typ, name, inputs, region, account)

    def _reference(self, stack: str) -> dict[str, Any]:
        # "org/project/stack" and plain "stack" both resolve to the planned stack of that name.
        short = stack.rsplit("/", 1)[-1]
        return self.stack_outputs.get(stack, self.stack_outputs.get(short, {}))

    @staticmethod
    def _generic(typ: str, name: str, inputs: dict[str, Any], region: str, account: str):
        service, kind = typ.split(":")[1].split("/")[0], typ.rsplit(":", 1)[-1]
        prefix = _ID_PREFIX.get(kind)
        physical = inputs.get("name") if isinstance(inputs.get("name"), str) else None
        if prefix:
            resource_id = f"{prefix}-0{_digest(typ, name)}"
        else:
            resource_id = physical or f"{name}-{_digest(typ, name, length=7)}"
        location = "" if service in _GLOBAL_SERVICES else region
        arn = f"arn:aws:{service}:{location}:{account}:{_kebab(kind)}/{physical or resource_id}"
        state = {"arn": arn, "id": resource_id, "name": physical or resource_id, **inputs}
        state.setdefault("tagsAll", inputs.get("tags", {}))
        return resource_id, state

    @staticmethod
    def _kubernetes(name: str, inputs: dict[str, Any]):
        metadata = dict(inputs.get("metadata") or {})
        metadata.setdefault("name", name)
        metadata.setdefault("uid", str(uuid.UUID(_digest("k8s", name, length=32))))
        namespace = metadata.get("namespace")
        resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
        return resource_id, {**inputs, "metadata": metadata}

    # -- invokes --------------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list]:
        region, account = self._location(args.provider, dict(args.args))
        handler = _INVOKES.get(args.token)
        if handler is None:
            self.unknown_invokes.add(args.token)
            return {}, []
        return handler(dict(args.args), region, account), []


def _bucket(name, inputs, region, account):
    bucket = inputs.get("bucket") or f"{name}-{_digest(name, length=7)}"
    return bucket, {**inputs, "id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}",
                    "bucketDomainName": f"{bucket}.s3.amazonaws.com",
                    "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com", "region": region}


def _kms_key(name, inputs, region, account):
    key_id = str(uuid.UUID(_digest("kms", name, length=32)))
    return key_id, {**inputs, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}


def _iam_named(kind: str) -> Callable:
    def answer(name, inputs, region, account):
        physical = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
        arn = f"arn:aws:iam::{account}:{kind}/{physical}"
        resource_id = arn if kind == "policy" else physical
        return resource_id, {**inputs, "id": resource_id, "name": physical, "arn": arn,
                             "uniqueId": "AROA" + _digest(name, length=17).upper()}
    return answer


def _oidc_provider(name, inputs, region, account):
    host = str(inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{account}:oidc-provider/{host}"
    return arn, {**inputs, "arn": arn}


def _log_group(name, inputs, region, account):
    group = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
    return group, {**inputs, "name": group, "arn": f"arn:aws:logs:{region}:{account}:log-group:{group}"}


def _eks_cluster(name, inputs, region, account):
    cluster = inputs.get("name") or name
    token = _digest("eks", region, cluster, length=32).upper()
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\nplan-{cluster}\n-----END CERTIFICATE-----\n".encode())
    vpc_config = {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-0{_digest('eks-sg', cluster)}",
                  "vpcId": f"vpc-0{_digest('eks-vpc', cluster)}"}
    return cluster, {
        **inputs, "id": cluster, "name": cluster, "arn": f"arn:aws:eks:{region}:{account}:cluster/{cluster}",
        "endpoint": f"https://{token}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": ca.decode()}, "status": "ACTIVE", "platformVersion": "eks.1",
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{token}"}]}],
        "vpcConfig": vpc_config,
    }


def _eks_node_group(name, inputs, region, account):
    cluster, group = inputs.get("clusterName", "cluster"), inputs.get("nodeGroupName") or name
    suffix = str(uuid.UUID(_digest("ng", cluster, group, length=32)))
    return f"{cluster}:{group}", {
        **inputs, "nodeGroupName": group, "status": "ACTIVE",
        "arn": f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/{group}/{suffix}",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{suffix}"}], "remoteAccessSecurityGroupId": ""}],
    }


def _eks_addon(name, inputs, region, account):
    cluster, addon = inputs.get("clusterName", "cluster"), inputs.get("addonName", name)
    suffix = str(uuid.UUID(_digest("addon", cluster, addon, length=32)))
    return f"{cluster}:{addon}", {**inputs, "arn": f"arn:aws:eks:{region}:{account}:addon/{cluster}/{addon}/{suffix}"}


def _launch_template(name, inputs, region, account):
    template_id = f"lt-0{_digest('lt', name)}"
    return template_id, {**inputs, "id": template_id, "latestVersion": 1, "defaultVersion": 1,
                         "name": inputs.get("name") or name,
                         "arn": f"arn:aws:ec2:{region}:{account}:launch-template/{template_id}"}


_SPECIAL: dict[str, Callable] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:eks/addon:Addon": _eks_addon,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:iam/role:Role": _iam_named("role"),
    "aws:iam/policy:Policy": _iam_named("policy"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
}

_INVOKES: dict[str, Callable[[dict, str, str], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args, region, account: {
        "id": region, "names": [f"{region}{z}" for z in "abcdef"],
        "zoneIds": [f"{region[:2]}{region.split('-')[1][0]}{region[-1]}-az{i}" for i in range(1, 7)],
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args, region, account: {
        "accountId": account, "arn": f"arn:aws:iam::{account}:user/plan", "userId": "AIDAPLAN", "id": account,
    },
    "aws:index/getRegion:getRegion": lambda args, region, account: {"name": region, "region": region, "id": region},
    "aws:ec2/getPrefixList:getPrefixList": lambda args, region, account: {
        "id": f"pl-0{_digest('pl', str(args.get('name')))[:8]}", "name": args.get("name"),
        "cidrBlocks": ["52.218.0.0/17", "3.5.64.0/21"],  # shape of com.amazonaws.<region>.s3
    },
    "aws:index/getPartition:getPartition": lambda args, region, account: {
        "partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
    },
}
