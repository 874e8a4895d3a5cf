"""Pulumi mocks that answer like the providers would: ids, ARNs, names and invoke results.

Without computed outputs (arn, bucket, name ...), inputs that depend on them silently vanish under
mocks, and policies would judge a graph that `pulumi up` never builds.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pulumi

from policies.resource_types import GLOBAL_SERVICES, RESOURCE_TYPES, ResourceType


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:length]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _fill(template: Any, fields: dict[str, Any]) -> Any:
    """A computed output from its template: strings formatted, dicts and lists filled item by item."""
    if isinstance(template, str):
        return template.format(**fields)
    if isinstance(template, dict):
        return {key: _fill(value, fields) for key, value in template.items()}
    if isinstance(template, (list, tuple)):
        return [_fill(value, fields) for value in template]
    return template


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
        return self._aws(typ, name, inputs, region, account)

    def _reference(self, stack: str) -> dict[str, Any]:
        # "org/project/stack" and plain "stack" both resolve to the planned stack of that name.
        short = stack.rsplit("/", 1)[-1]
        return self.stack_outputs.get(stack, self.stack_outputs.get(short, {}))

    @staticmethod
    def _aws(typ: str, name: str, inputs: dict[str, Any], region: str, account: str):
        """Id, ARN and computed outputs from the type's facts (``policies/resource_types.py``)."""
        facts = RESOURCE_TYPES.get(typ) or ResourceType(typ)
        key = facts.physical_name or "name"
        given = inputs.get(key) if isinstance(inputs.get(key), str) else None
        physical = given or f"{name}-{_digest(typ, name, length=7)}"
        fields = {
            "name": physical, "region": region, "account": account,
            "uuid": str(uuid.UUID(_digest(facts.module, name, length=32))),
            "digest": _digest(name, length=17).upper(),
            "url_host": str(inputs.get("url", "")).removeprefix("https://"),
            "inputs": inputs,
        }
        arn = facts.arn.format(**fields) if facts.arn else None
        if facts.id:
            resource_id = facts.id.format(**fields, arn=arn)
        elif facts.id_prefix:
            resource_id = f"{facts.id_prefix}-0{_digest(typ, name)}"
        else:
            resource_id = physical
        if arn is None:
            location = "" if facts.module in GLOBAL_SERVICES else region
            kind = _kebab(typ.rsplit(":", 1)[-1])
            arn = f"arn:aws:{facts.module}:{location}:{account}:{kind}/{given or resource_id}"
        computed = {key: _fill(template, {**fields, "arn": arn}) for key, template in facts.outputs.items()}
        state = {"arn": arn, "id": resource_id, "name": physical if key == "name" else resource_id,
                 **inputs, **computed}
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


_INVOKES: dict[str, Callable[[dict, str, str], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args, region, account: {
        "id": region, "names": [f"{region}{z}" for z in "abcdef"],
        "zoneIds": [f"{region[:2]}{region.split('-')[1][0]}{region[-1]}-az{i}" for i in range(1, 7)],
    },
    "aws:ec2/getPrefixList:getPrefixList": lambda args, region, account: {
        "id": f"pl-0{_digest('pl', str(args.get('name')))[:8]}", "name": args.get("name"),
        "cidrBlocks": ["52.218.0.0/17", "3.5.64.0/21"],  # shape of com.amazonaws.<region>.s3
    },
}
