"""Physical names that two stacks would both claim: `pulumi preview` sees one stack at a time and
cannot tell; the first `pulumi up` of the second stack would fail (or worse, adopt the name)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from .capture import CapturedResource

# type -> (input holding the physical name, scope of uniqueness)
NAMED_TYPES: dict[str, tuple[str, str]] = {
    "aws:s3/bucket:Bucket": ("bucket", "global"),
    "aws:iam/role:Role": ("name", "account"),
    "aws:iam/policy:Policy": ("name", "account"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url", "account"),  # one per URL and account
    "aws:kms/alias:Alias": ("name", "region"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "region"),
}


@dataclass(frozen=True)
class Collision:
    type: str
    name: str
    scope: str
    claims: tuple[tuple[str, str], ...]  # (stack, logical name)

    def __str__(self) -> str:
        who = ", ".join(f"{stack} ({logical})" for stack, logical in self.claims)
        return f"{self.type} named {self.name!r} ({self.scope}) is claimed by {who}"


def find_collisions(stacks: dict[str, list[CapturedResource]]) -> list[Collision]:
    """Every physical name claimed by more than one stack, within its scope of uniqueness."""
    claims: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    for stack, resources in stacks.items():
        providers = {r.urn: r.inputs for r in resources if r.type.startswith("pulumi:providers:")}
        for resource in resources:
            if resource.type not in NAMED_TYPES:
                continue
            key, scope = NAMED_TYPES[resource.type]
            name = resource.inputs.get(key)
            if not isinstance(name, str):
                continue
            where = _scope(scope, providers.get(resource.provider or "", {}), resource.inputs)
            claims[(resource.type, name, where)].append((stack, resource.name))
    return [
        Collision(typ, name, where, tuple(who))
        for (typ, name, where), who in sorted(claims.items())
        if len({stack for stack, _ in who}) > 1
    ]


def _scope(scope: str, provider: dict, inputs: dict) -> str:
    if scope == "global":
        return "global"
    accounts = provider.get("allowedAccountIds") or ["?"]
    if isinstance(accounts, str):
        accounts = json.loads(accounts)
    account = f"account {accounts[0]}"
    if scope == "account":
        return account
    return f"{account}, {inputs.get('region') or provider.get('region') or '?'}"
