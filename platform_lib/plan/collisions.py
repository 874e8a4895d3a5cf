"""Physical names that two stacks would both claim: `pulumi preview` sees one stack at a time and
cannot tell; the first `pulumi up` of the second stack would fail (or worse, adopt the name)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from policies.resource_types import named_types

from .capture import CapturedResource


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
    named = named_types()
    claims: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    for stack, resources in stacks.items():
        providers = {r.urn: r.inputs for r in resources if r.type.startswith("pulumi:providers:")}
        for resource in resources:
            facts = named.get(resource.type)
            name = resource.inputs.get(facts.physical_name or "") if facts else None
            if facts is None or facts.name_scope is None or not isinstance(name, str):
                continue
            where = _scope(facts.name_scope, providers.get(resource.provider or "", {}), resource.inputs)
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
