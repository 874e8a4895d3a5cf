"""Tags: the effective tags of a resource, the tag conventions of the platform, taggable types.

The constants below duplicate facts of the platform's config schema and naming module (the pack runs
standalone under the Pulumi CLI and must not import ``platform_lib`` or ``infra``);
``tests/policies/test_policy_constants.py`` pins them equal.
"""

from __future__ import annotations

import importlib
import inspect
import keyword
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from .providers import provider_input
from .unknowns import is_known, props_of

REQUIRED_TAGS: tuple[str, ...] = ("team", "env", "cost-center")
"""Tags every taggable resource must carry (effective tags: provider defaultTags + own tags)."""

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
"""Allowed values of the ``env`` tag."""

PROD = "prod"
"""The ``env`` tag value of production."""

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
    """``defaultTags.tags`` of an aws provider, and whether they were known."""
    default_tags = provider_input(provider, "defaultTags")
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
def schema_taggable(resource_type: str) -> bool | None:
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


_schema_taggable = schema_taggable  # the name `mlp plan` and older tests use


def is_taggable(resource_type: str, props: Mapping[str, Any] | None = None) -> bool:
    """Whether a resource of this type must carry the required tags.

    Answered from the pulumi-aws schema (see :func:`schema_taggable`); for a type pulumi-aws
    doesn't know, a resource is taggable when its inputs carry ``tags`` or ``tagsAll``.
    """
    answer = schema_taggable(resource_type)
    if answer is not None:
        return answer
    return resource_type.startswith("aws:") and props is not None and ("tags" in props or "tagsAll" in props)
