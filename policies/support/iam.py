"""IAM policy documents: parsing, statements, action and resource patterns, who carries which document."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .links import linked_targets, of_types
from .unknowns import UNKNOWN, as_list, is_known, plain, props_of

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IDENTITY_POLICY_TYPES = frozenset({
    ROLE, POLICY, ROLE_POLICY, "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
})
"""Resources that carry identity policies (a role's inline policies; never its trust policy)."""


@dataclass(frozen=True)
class Statement:
    """One IAM statement, normalized: lists everywhere, ``Effect`` as written."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any
    condition: Mapping[str, Any]
    sid: str | None

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def denies(self) -> bool:
        return self.effect == "Deny"

    @property
    def any_resource(self) -> bool:
        """Applies to every resource (``Resource: "*"``, or ``NotResource`` with Allow)."""
        return "*" in self.resources or bool(self.not_resources)

    @property
    def condition_keys(self) -> frozenset[str]:
        """The condition keys the statement tests (lower case, any operator)."""
        return frozenset(key.lower() for block in self.condition.values() if isinstance(block, dict)
                         for key in block)

    def condition_values(self, key: str) -> list[Any]:
        """Every value the statement's conditions compare ``key`` with (any operator)."""
        return [value for block in self.condition.values() if isinstance(block, dict)
                for k, values in block.items() if k.lower() == key.lower() for value in as_list(values)]

    def grants(self, action: str) -> bool:
        """Whether the statement's ``Action`` (or ``NotAction``) covers ``action``."""
        if self.not_actions:
            return not any(action_covers(a, action) for a in self.not_actions)
        return any(action_covers(a, action) for a in self.actions)

    def label(self, index: int) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{index + 1}"


class InvalidPolicyDocument(ValueError):
    """A policy document that is neither a JSON object string nor a mapping with statements."""


def parse_policy_document(document: Any) -> dict[str, Any] | None:
    """A policy document as a dict; None when absent, :data:`UNKNOWN` when unknown.

    Accepts a JSON string or a mapping (after :func:`plain`). Raises
    :class:`InvalidPolicyDocument` for text that isn't a JSON object.
    """
    document = plain(document)
    if document is None or document is UNKNOWN:
        return document
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise InvalidPolicyDocument(f"not valid JSON: {error}") from error
        document = plain(document)  # the JSON text may embed unknown sentinels
    if not isinstance(document, dict):
        raise InvalidPolicyDocument("not a JSON object")
    return document


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in as_list(value) if isinstance(v, str) and is_known(v))


def statements(document: Any) -> list[Statement]:
    """The statements of a policy document (JSON string or mapping); [] when absent/unknown."""
    doc = parse_policy_document(document)
    if not isinstance(doc, dict):
        return []
    result = []
    for raw in as_list(doc.get("Statement")):
        if not isinstance(raw, dict):
            continue
        condition = raw.get("Condition")
        result.append(Statement(
            effect=effect if isinstance(effect := raw.get("Effect"), str) else "",
            actions=_strings(raw.get("Action")),
            not_actions=_strings(raw.get("NotAction")),
            resources=_strings(raw.get("Resource")),
            not_resources=_strings(raw.get("NotResource")),
            principal=raw.get("Principal"),
            condition=condition if isinstance(condition, dict) else {},
            sid=raw.get("Sid") if isinstance(raw.get("Sid"), str) else None,
        ))
    return result


def action_covers(pattern: str, action: str) -> bool:
    """Whether the IAM action ``pattern`` (``*``/``?`` wildcards) grants ``action``.

    Case-insensitive like IAM. ``action`` may itself be a service wildcard such as ``s3:*``: it is
    covered only by a pattern at least as wide (``s3:*`` or ``*``), not by ``s3:Get*``.
    """
    escaped = pattern.lower().replace("[", "[[]")
    return fnmatch.fnmatchcase(action.lower(), escaped)


def resource_covers(pattern: str, arn: str) -> bool:
    """Whether the ``Resource`` pattern (``*``/``?`` wildcards, case-sensitive like ARNs) matches ``arn``."""
    return fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))


def principal_values(principal: Any, kind: str) -> list[Any]:
    """The principals of one kind (``AWS``, ``Service``, ``Federated``) in a ``Principal``; ``*`` is AWS."""
    if principal == "*":
        return ["*"] if kind == "AWS" else []
    if isinstance(principal, dict):
        return as_list(principal.get(kind))
    return []


def trusted_services(role: Any) -> frozenset[str]:
    """The service principals the role's trust policy lets assume it (Allow statements)."""
    try:
        trust = statements(props_of(role).get("assumeRolePolicy"))
    except InvalidPolicyDocument:
        return frozenset()
    return frozenset(s for st in trust if st.allows for s in principal_values(st.principal, "Service")
                     if isinstance(s, str))


def identity_documents(resource: Any) -> Iterator[tuple[str, Any]]:
    """(where, document) for every identity policy document the resource carries (not trust policies)."""
    props = props_of(resource)
    if resource.resource_type == ROLE:
        for item in as_list(props.get("inlinePolicies")):
            if isinstance(item, dict) and is_known(item.get("policy")):
                name = item.get("name") if is_known(item.get("name")) else "?"
                yield f"IAM role '{resource.name}' inline policy '{name}'", item["policy"]
    elif resource.resource_type in IDENTITY_POLICY_TYPES and is_known(props.get("policy")):
        kind = resource.resource_type.split(":")[-1]
        yield f"IAM {kind} '{resource.name}'", props["policy"]


def _policy_by_arn(source: Any, prop: str, policies: Sequence[Any]) -> list[Any]:
    """The managed policies of the stack that ``source.props[prop]`` (a policy ARN) names."""
    hits = linked_targets(source, prop, policies, match_props=("arn", "id"))
    if hits:
        return hits
    arn = props_of(source).get(prop)
    if not isinstance(arn, str) or not is_known(arn):
        return []
    return [p for p in policies if isinstance(props_of(p).get("name"), str)
            and arn.endswith("/" + props_of(p)["name"]) and ":policy/" in arn]


def boundary_policies(resources: Sequence[Any]) -> list[Any]:
    """The managed policies of the stack used as a permissions boundary by a role or user."""
    policies = of_types(resources, (POLICY,))
    holders = of_types(resources, (ROLE, "aws:iam/user:User"))
    found = {p.urn: p for h in holders for p in _policy_by_arn(h, "permissionsBoundary", policies)}
    return list(found.values())


def role_documents(role: Any, resources: Sequence[Any]) -> Iterator[tuple[str, Any]]:
    """(where, document) for the identity policies of ``role``: inline, RolePolicy, attached Policy."""
    yield from identity_documents(role)
    for role_policy in of_types(resources, (ROLE_POLICY,)):
        if role in linked_targets(role_policy, "role", [role], match_props=("name", "id")):
            yield from identity_documents(role_policy)
    policies = of_types(resources, (POLICY,))
    for attachment in of_types(resources, (ROLE_POLICY_ATTACHMENT,)):
        if role in linked_targets(attachment, "role", [role], match_props=("name", "id")):
            for policy in _policy_by_arn(attachment, "policyArn", policies):
                yield from identity_documents(policy)


def role_boundary_documents(role: Any, resources: Sequence[Any]) -> Iterator[tuple[str, Any]]:
    """(where, document) for the role's permissions boundary, when that policy is in the stack."""
    for policy in _policy_by_arn(role, "permissionsBoundary", of_types(resources, (POLICY,))):
        for where, document in identity_documents(policy):
            yield f"{where} (permissions boundary)", document
