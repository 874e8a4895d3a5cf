"""Helpers shared by the rules: plain values and unknowns, tags, resource links, IAM documents.

Rules never read ``props`` directly: they call :func:`props_of`, which turns pulumi-policy's
unknown-checking proxies (real CLI), pulumi mock values (offline plan) and plain dicts (tests) into
plain Python data where every value that cannot be known at preview time is the :data:`UNKNOWN`
singleton. A rule then decides explicitly what "unknown" means for it (almost always: not a
violation), instead of pulumi-policy aborting the whole rule with an ``UnknownValueError``.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import json
import keyword
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from pulumi_policy import Secret
from pulumi_policy.proxy import UnknownValueError

# --------------------------------------------------------------------------------------------
# Plain values and unknowns
# --------------------------------------------------------------------------------------------


class _Unknown:
    """Marker for a value that cannot be known during preview."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:  # an unknown is never "set and true"
        return False


UNKNOWN: Any = _Unknown()
"""The single value every unknown input is converted to by :func:`plain`."""

# The engine's "computed" sentinels (pulumi_policy.proxy and pulumi.runtime.rpc use the same strings).
_UNKNOWN_SENTINELS = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (also pulumi.runtime.rpc.UNKNOWN)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def _is_pulumi_unknown(value: Any) -> bool:
    """True for ``pulumi.output.Unknown`` (what mocks deliver for unknowns during a dry run)."""
    cls = type(value)
    return cls.__name__ == "Unknown" and cls.__module__.startswith("pulumi.")


def is_unknown(value: Any) -> bool:
    """True when ``value`` cannot be known at preview time (plain or raw form)."""
    return (
        value is UNKNOWN
        or (isinstance(value, str) and value in _UNKNOWN_SENTINELS)
        or _is_pulumi_unknown(value)
    )


def is_known(value: Any) -> bool:
    """True when ``value`` is present (not None) and not unknown."""
    return value is not None and not is_unknown(value)


def plain(value: Any) -> Any:
    """Deep-copy ``value`` into dicts, lists and scalars, unwrapping secrets and marking unknowns.

    Accepts pulumi-policy proxies (reading them item by item so an unknown never raises), pulumi's
    serialized secrets (``{SPECIAL_SIG_KEY: SECRET_SIG, "value": ...}``), ``pulumi_policy.Secret``,
    ``pulumi.output.Unknown`` and the engine's unknown sentinel strings.
    """
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        keys = list(iter(value))  # iterating a proxy never reads (so never raises on) values
        if SPECIAL_SIG_KEY in keys and _safe_item(value, SPECIAL_SIG_KEY) == SECRET_SIG:
            return plain(_safe_item(value, "value"))
        return {key: plain(_safe_item(value, key)) for key in keys}
    if isinstance(value, Sequence):
        return [plain(_safe_item(value, i)) for i in range(len(value))]
    return value


def _safe_item(container: Any, key: Any) -> Any:
    """``container[key]`` where an unknown value yields :data:`UNKNOWN` instead of raising."""
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


class _HasProps(Protocol):
    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str


def props_of(resource: _HasProps) -> dict[str, Any]:
    """The resource's inputs (or outputs, for stack rules) as plain data; see :func:`plain`."""
    props = plain(resource.props)
    return props if isinstance(props, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``None`` -> ``[]``, a scalar -> ``[scalar]``, a list stays a list (IAM/AWS one-or-many)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_number(value: Any) -> float | None:
    """A known number (mocks deliver ints as floats, config may deliver strings), else None."""
    if isinstance(value, bool) or not is_known(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_true(value: Any) -> bool:
    """True only for a known boolean true (or the string "true")."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def display_name(resource: _HasProps, *keys: str) -> str:
    """The first known string among ``props[keys]`` (e.g. the bucket name), else the logical name."""
    props = props_of(resource)
    for key in keys:
        value = props.get(key)
        if isinstance(value, str) and is_known(value) and value:
            return value
    return resource.name


# --------------------------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------------------------

REQUIRED_TAGS: tuple[str, ...] = ("team", "env", "cost-center")
"""Tags every taggable resource must carry (effective tags: provider defaultTags + own tags)."""

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
"""Allowed values of the ``env`` tag."""

PLATFORM_TEAM = "platform"
"""Value of the ``team`` tag on platform-owned (shared) resources."""

PURPOSE_TAG = "ml-platform/purpose"
"""Tag that classifies a resource for the rules: ``logs`` (log bucket) or ``load-balancer`` (SG)."""

ROLE_KIND_TAG = "ml-platform/role-kind"
"""Tag that marks an IAM role as a team role (value ``team``) whatever its ``team`` tag says."""


@dataclass(frozen=True)
class EffectiveTags:
    """The tags AWS will put on a resource, and whether every source of them was known."""

    tags: Mapping[str, str]
    complete: bool

    def get(self, key: str) -> str | None:
        return self.tags.get(key)


def _tag_map(value: Any) -> tuple[dict[str, str], bool]:
    """Known string tags of a ``tags``-like value, and whether the whole value was known."""
    if value is None:
        return {}, True
    if not isinstance(value, dict):
        return {}, False
    known = {str(k): v for k, v in value.items() if isinstance(v, str) and is_known(v)}
    return known, len(known) == len(value)


def provider_default_tags(provider: Any) -> tuple[dict[str, str], bool]:
    """``defaultTags.tags`` of an aws provider, and whether they were known.

    Explicit aws providers serialize object inputs as JSON strings (``pulumi.runtime.to_json``),
    so ``defaultTags`` arrives as ``'{"tags": {...}}'`` under the CLI and under mocks; a dict is
    accepted too.
    """
    if provider is None:
        return {}, True
    default_tags = plain(getattr(provider, "props", None) or {}).get("defaultTags")
    if isinstance(default_tags, str) and is_known(default_tags):
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            return {}, False
    if default_tags is None:
        return {}, True
    if not isinstance(default_tags, dict):
        return {}, False
    return _tag_map(default_tags.get("tags"))


def effective_tags(resource: Any) -> EffectiveTags:
    """Provider ``defaultTags`` ∪ ``tagsAll`` (when known) ∪ the resource's own ``tags``."""
    props = props_of(resource)
    defaults, defaults_known = provider_default_tags(getattr(resource, "provider", None))
    own, own_known = _tag_map(props.get("tags"))
    all_tags, all_known = _tag_map(props.get("tagsAll")) if "tagsAll" in props else ({}, False)
    merged = {**defaults, **all_tags, **own}
    complete = (defaults_known and own_known) or (all_known and bool(all_tags))
    return EffectiveTags(merged, complete)


def resource_env(resource: Any) -> str | None:
    """The resource's ``env`` tag (dev, staging, prod), or None when absent or unknown."""
    return effective_tags(resource).get("env")


def purpose_of(resource: Any) -> str | None:
    """The resource's ``ml-platform/purpose`` tag, or None."""
    return effective_tags(resource).get(PURPOSE_TAG)


@cache
def _schema_taggable(resource_type: str) -> bool | None:
    """Whether pulumi-aws says ``resource_type`` is taggable; None when the type can't be resolved.

    Taggable means: its ``<Class>Args`` accepts ``tags`` and the class has ``tags_all`` (the
    marker of resources the provider's ``defaultTags`` apply to; e.g. autoscaling ``Group`` has a
    ``tags`` list but no ``tags_all`` and ignores default tags). Resolving imports one pulumi_aws
    sub-module (lazily, cached): ~0.05-0.5 s the first time under the CLI, free offline where the
    program has already imported it.
    """
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return None
    module_name, class_name = parts[1].split("/")[0], parts[2]
    candidates = ["pulumi_aws"] if module_name == "index" else [f"pulumi_aws.{module_name}"]
    if keyword.iskeyword(module_name):
        candidates.insert(0, f"pulumi_aws.{module_name}_")  # lambda -> pulumi_aws.lambda_
    for candidate in candidates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(candidate)
                cls = getattr(module, class_name, None)
                args_cls = getattr(module, f"{class_name}Args", None)
        except ImportError:
            continue
        if cls is None or args_cls is None:
            continue
        params = inspect.signature(args_cls.__init__).parameters
        return "tags" in params and hasattr(cls, "tags_all")
    return None


def is_taggable(resource_type: str, props: Mapping[str, Any] | None = None) -> bool:
    """Whether a resource of this type must carry the required tags.

    Answered from the pulumi-aws schema (see :func:`_schema_taggable`); for a type pulumi-aws
    doesn't know, a resource is taggable when its inputs carry ``tags`` or ``tagsAll``.
    """
    answer = _schema_taggable(resource_type)
    if answer is not None:
        return answer
    return resource_type.startswith("aws:") and bool(props) and ("tags" in props or "tagsAll" in props)


# --------------------------------------------------------------------------------------------
# Links between resources (stack rules)
# --------------------------------------------------------------------------------------------


def urn_of(ref: Any) -> str:
    """The URN of a PolicyResource, or the string itself (harnesses may pass URNs)."""
    return ref if isinstance(ref, str) else ref.urn


def of_types(resources: Iterable[Any], types: Iterable[str]) -> list[Any]:
    """The resources whose type is one of ``types``."""
    wanted = frozenset(types)
    return [r for r in resources if r.resource_type in wanted]


def linked_targets(source: Any, prop: str, targets: Sequence[Any],
                   match_props: Sequence[str] = ("id",)) -> list[Any]:
    """The ``targets`` that ``source`` references through its input ``prop``.

    In order: ``property_dependencies[prop]`` (works under ``pulumi preview`` where ids are
    unknown); else equal values (``source.props[prop]`` equals a known ``target.props[k]`` for a
    ``k`` in ``match_props``, e.g. the bucket name); else, when the source recorded no property
    dependencies at all, the single target among its plain ``dependencies``.
    """
    by_urn = {t.urn: t for t in targets}
    property_deps = getattr(source, "property_dependencies", None) or {}
    refs = property_deps.get(prop) or []
    hits = [by_urn[urn_of(r)] for r in refs if urn_of(r) in by_urn]
    if hits:
        return hits
    value = props_of(source).get(prop)
    if isinstance(value, str) and is_known(value) and value:
        hits = [t for t in targets
                if any(props_of(t).get(k) == value for k in match_props)]
        if hits:
            return hits
    if not property_deps:
        deps = [by_urn[urn_of(d)] for d in getattr(source, "dependencies", None) or []
                if urn_of(d) in by_urn]
        if len(deps) == 1:
            return deps
    return []


def index_links(sources: Iterable[Any], prop: str, targets: Sequence[Any],
                match_props: Sequence[str] = ("id",)) -> dict[str, list[Any]]:
    """Map each target URN to the ``sources`` that reference it through ``prop``."""
    result: dict[str, list[Any]] = {t.urn: [] for t in targets}
    for source in sources:
        for target in linked_targets(source, prop, targets, match_props):
            result[target.urn].append(source)
    return result


# --------------------------------------------------------------------------------------------
# IAM policy documents
# --------------------------------------------------------------------------------------------


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
    def any_resource(self) -> bool:
        """Applies to every resource (``Resource: "*"``, or ``NotResource`` with Allow)."""
        return "*" in self.resources or bool(self.not_resources)

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
            effect=raw.get("Effect") if isinstance(raw.get("Effect"), str) else "",
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


# --------------------------------------------------------------------------------------------
# S3: buckets and their separate configuration resources (pulumi-aws 7)
# --------------------------------------------------------------------------------------------

BUCKET_TYPES: tuple[str, ...] = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
"""Bucket tokens: ``Bucket`` and its legacy alias ``BucketV2`` (both still exist in 7.51.1)."""

LOG_BUCKET_PURPOSE = "logs"
"""``ml-platform/purpose`` value of buckets that receive logs (S3 access logs, flow logs...)."""


def is_log_bucket(bucket: Any) -> bool:
    """Whether the bucket is a log bucket (effective tag ``ml-platform/purpose=logs``)."""
    return purpose_of(bucket) == LOG_BUCKET_PURPOSE


def buckets_with(resources: Sequence[Any], config_types: Iterable[str]) -> list[tuple[Any, list[Any]]]:
    """Each bucket with the config resources (of ``config_types``) that target it via ``bucket``.

    Config resources name their bucket in the ``bucket`` input (the bucket's name, which is also
    its id); see :func:`linked_targets` for how they are matched.
    """
    buckets = of_types(resources, BUCKET_TYPES)
    links = index_links(of_types(resources, config_types), "bucket", buckets,
                        match_props=("bucket", "id"))
    return [(bucket, links[bucket.urn]) for bucket in buckets]


def bucket_label(bucket: Any) -> str:
    """``bucket 'fraud-dev-raw'`` (its name when known, else its logical name)."""
    return f"bucket '{display_name(bucket, 'bucket')}'"
