"""Links between resources, for stack rules: which resource a config resource or rule targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .unknowns import is_known, props_of


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
