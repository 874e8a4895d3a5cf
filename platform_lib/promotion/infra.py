"""`mlp promote infra`: carry the promotable config of one environment's stack into the next one's.

A key is *per-environment* (never carried) when its schema field has the ``PER_ENVIRONMENT`` marker
(account, environment, serving regions, owners, CIDRs ...) or when its section declares an environment
default for it (``DEFAULTS``: retention, AZ count, query limits ...). Everything else the source stack
file states (feature declarations, model declarations, pinned versions, image tags) is promotable: the
target file gets it, with the target's own comments and key order kept (ruamel.yaml round trip).
"""

from __future__ import annotations

import copy
import difflib
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from platform_lib.config.loader import NAMESPACE, ConfigError, StackFile, load_stack_file
from platform_lib.config.schema import ENVIRONMENTS, PlatformConfig, Section, TeamConfig
from platform_lib.config.schema.base import per_environment

IDENTITY = ("kind", "team")
"""Keys that must be equal: a promotion moves one team's stack (or the platform) to its next environment."""


class PromotionRefused(Exception):
    """Bad input or a failed gate: the message names the cause; nothing was changed."""


@dataclass(frozen=True)
class Item:
    """A path step into a list of named items (``serving.models[scorer]``): the item whose ``name`` it is."""

    name: str

    def __str__(self) -> str:
        return f"[{self.name}]"


@dataclass(frozen=True)
class Change:
    """One promotable key whose value differs: ``path`` below ``ml-platform:``; ``None`` side = absent."""

    path: tuple[str | Item, ...]
    target: Any
    source: Any
    review: tuple[str, ...] = ()
    """Per-environment keys of an item new in the target, carried from the source: size them for the target."""
    after: str | None = None
    """An item new in the target goes after this item (its predecessor in the source list; None: first)."""

    @property
    def key(self) -> str:
        text = ""
        for part in self.path:
            text += str(part) if isinstance(part, Item) else f"{'.' if text else ''}{part}"
        return text


def stack_path(stacks_dir: Path, name: str) -> Path:
    path = stacks_dir / f"Pulumi.{name}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))
        raise PromotionRefused(f"unknown stack {name!r}: no {path}; stacks: {', '.join(known) or 'none'}")
    return path


def load_pair(stacks_dir: Path, source: str, target: str) -> tuple[StackFile, StackFile]:
    """Both stack files, refused unless the target is the same team's stack in a higher environment."""
    if source == target:
        raise PromotionRefused(f"--from and --to are both {source!r}")
    files = []
    for name in (source, target):
        try:
            files.append(load_stack_file(stack_path(stacks_dir, name)))
        except ConfigError as exc:
            raise PromotionRefused(str(exc)) from None
    src, dst = files
    if src.config.kind != dst.config.kind:
        raise PromotionRefused(f"{source} is a {src.config.kind} stack and {target} a {dst.config.kind} stack")
    if team_of(src) != team_of(dst):
        raise PromotionRefused(f"{source} belongs to team {team_of(src)!r} and {target} to team {team_of(dst)!r}: "
                               f"a promotion stays within one team")
    rank = ENVIRONMENTS.index
    if rank(dst.config.environment) <= rank(src.config.environment):
        raise PromotionRefused(
            f"{target} ({dst.config.environment}) is not a higher environment than {source} "
            f"({src.config.environment}); promotion goes {' -> '.join(ENVIRONMENTS)}")
    return src, dst


def team_of(stack: StackFile) -> str:
    return stack.config.team if isinstance(stack.config, TeamConfig) else "platform"


def raw_config(path: Path) -> CommentedMap:
    """The ``config`` mapping of a stack file, as ruamel's round-trip structure."""
    document = _yaml().load(path.read_text(encoding="utf-8"))
    return document["config"]


def promotable_changes(source: StackFile, target: StackFile) -> list[Change]:
    """The differences of the two files' stated values on promotable keys, in the target's key order."""
    model: type[BaseModel] = TeamConfig if isinstance(source.config, TeamConfig) else PlatformConfig
    environments = (source.config.environment, target.config.environment)
    src, dst = _ours(raw_config(source.path)), _ours(raw_config(target.path))
    return list(_diff(model, src, dst, (), environments))


def _ours(config: Mapping[str, Any]) -> dict[str, Any]:
    prefix = f"{NAMESPACE}:"
    return {str(k)[len(prefix):]: v for k, v in config.items() if str(k).startswith(prefix)}


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _diff(model: type[BaseModel], src: Mapping[str, Any], dst: Mapping[str, Any], at: tuple[str | Item, ...],
          environments: tuple[str, str]) -> Iterator[Change]:
    fields = _fields(model)
    defaulted = _defaulted(model, environments)
    for key in [*dst, *(k for k in src if k not in dst)]:
        if not at and key in IDENTITY:
            continue
        field = fields.get(key)
        if field is not None and per_environment(field) or key in defaulted:
            continue
        old, new = dst.get(key), src.get(key)  # None: the file does not state it
        if _plain(old) == _plain(new):
            continue
        section, items = _section_type(field), _item_type(field)
        if section is not None and isinstance(old, Mapping | None) and isinstance(new, Mapping | None):
            yield from _diff(section, new or {}, old or {}, (*at, key), environments)
        elif items is not None and _named_items(old) and _named_items(new):
            yield from _diff_items(items, new or [], old or [], (*at, key), environments)
        else:
            yield Change((*at, key), _plain(old), _plain(new))


def _diff_items(model: type[BaseModel], src: list[Any], dst: list[Any], at: tuple[str | Item, ...],
                environments: tuple[str, str]) -> Iterator[Change]:
    """A list of named items, item by item (matched on ``name``), so per-environment keys inside stay."""
    old = {str(item["name"]): item for item in dst}
    new = {str(item["name"]): item for item in src}
    order = list(new)
    for name in [*old, *(n for n in new if n not in old)]:
        path = (*at, Item(name))
        if name not in new:
            yield Change(path, _plain(old[name]), None)
        elif name not in old:  # a new item: the target has nothing of its own yet, so all of it is carried
            index = order.index(name)
            yield Change(path, None, new[name], _per_environment_keys(model, new[name], environments),
                         after=order[index - 1] if index else None)   # the source's node: its style too
        else:
            yield from _diff(model, new[name], old[name], path, environments)


def _defaulted(model: type[BaseModel], environments: tuple[str, str]) -> set[str]:
    keys: set[str] = set()
    if isinstance(model, type) and issubclass(model, Section):
        for env in environments:
            keys |= set(model.DEFAULTS.get(env, {}))  # type: ignore[call-overload]
    return keys


def _per_environment_keys(model: type[BaseModel], value: Mapping[str, Any],
                          environments: tuple[str, str]) -> tuple[str, ...]:
    """The per-environment keys a new item states: carried from the source, for the reviewer to size."""
    fields, defaulted = _fields(model), _defaulted(model, environments)
    return tuple(key for key in value if key in defaulted or key in fields and per_environment(fields[key]))


def _section_type(field: Any) -> type[BaseModel] | None:
    import typing

    annotation = getattr(field, "annotation", None)
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _item_type(field: Any) -> type[BaseModel] | None:
    """``Model`` when the field is a ``list[Model]`` (optional or not) of items that have a ``name``."""
    import typing

    annotation = getattr(field, "annotation", None)
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is list:
            (item,) = typing.get_args(candidate) or (None,)
            if isinstance(item, type) and issubclass(item, BaseModel) and "name" in item.model_fields:
                return item
    return None


def _named_items(value: Any) -> bool:
    """``None`` or a list of mappings with distinct ``name`` values (anything else is compared whole)."""
    if value is None:
        return True
    if not isinstance(value, list) or not all(isinstance(v, Mapping) and "name" in v for v in value):
        return False
    names = [str(v["name"]) for v in value]
    return len(set(names)) == len(names)


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (for comparison and display)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def apply(target: Path, changes: list[Change]) -> str:
    """The target file's text with ``changes`` carried in; comments, order and untouched values kept."""
    document = _yaml().load(target.read_text(encoding="utf-8"))
    config = document["config"]
    for change in changes:
        key, *rest = change.path
        path: list[str | Item] = [f"{NAMESPACE}:{key}", *rest]
        nodes: list[Any] = [config]  # the containers along the path, outermost first
        for part, after in zip(path[:-1], path[1:], strict=True):
            nodes.append(_child(nodes[-1], part, create=CommentedSeq if isinstance(after, Item) else CommentedMap))
        parent, last = nodes[-1], path[-1]
        if change.source is None:
            del parent[_index(parent, last)]
            for depth in range(len(nodes) - 1, 0, -1):  # a container left empty: drop its key (or item) too
                if nodes[depth]:
                    break
                del nodes[depth - 1][_index(nodes[depth - 1], path[depth - 1])]
        elif isinstance(last, Item) and _find(parent, last) is None:   # where the source has it
            predecessor = _find(parent, Item(change.after)) if change.after is not None else -1
            index = len(parent) if predecessor is None else predecessor + 1
            parent.insert(index, copy.deepcopy(change.source))
        elif isinstance(last, str) and last not in parent:   # a key of a section the target did not state yet
            parent[last] = copy.deepcopy(change.source)
        elif isinstance(parent[_index(parent, last)], (CommentedMap, CommentedSeq)):
            _merge_into(parent, _index(parent, last), change.source)
        else:
            parent[_index(parent, last)] = copy.deepcopy(change.source)
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def _find(node: Any, item: Item) -> int | None:
    for index, value in enumerate(node):
        if isinstance(value, Mapping) and str(value.get("name")) == item.name:
            return index
    return None


def _index(node: Any, part: str | Item) -> Any:
    """The key (mapping) or the index of the named item (list) that ``part`` addresses in ``node``."""
    if isinstance(part, Item):
        index = _find(node, part)
        if index is None:
            raise KeyError(part.name)
        return index
    return part


def _child(node: Any, part: str | Item, create: type) -> Any:
    if isinstance(part, str) and part not in node:
        node[part] = create()
    return node[_index(node, part)]


def _merge_into(parent: Any, key: Any, value: Any) -> None:
    """Set ``parent[key] = value`` editing the existing node in place where shapes agree (keeps comments)."""
    current = parent[key]
    if isinstance(current, CommentedMap) and isinstance(value, Mapping):
        for k in [k for k in current if k not in value]:
            del current[k]
        for k, v in value.items():
            if k in current and _plain(current[k]) != v and isinstance(current[k], (CommentedMap, CommentedSeq)):
                _merge_into(current, k, v)
            elif k not in current or _plain(current[k]) != v:
                current[k] = copy.deepcopy(v)
    elif isinstance(current, CommentedSeq) and isinstance(value, list) and len(current) == len(value):
        for index, item in enumerate(value):
            if _plain(current[index]) != item:
                if isinstance(current[index], (CommentedMap, CommentedSeq)):
                    _merge_into(current, index, item)
                else:
                    current[index] = copy.deepcopy(item)
    else:
        parent[key] = copy.deepcopy(value)


def unified_diff(target: Path, new_text: str) -> str:
    old = target.read_text(encoding="utf-8")
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        fromfile=str(target), tofile=f"{target} (promoted)"))


def plan_with(stacks_dir: Path, target: Path, new_text: str, timeout: float = 600.0) -> Any:
    """The offline plan of the target as it would be after the promotion (a copy of the stacks directory)."""
    from platform_lib.plan import runner

    with tempfile.TemporaryDirectory(prefix="mlp-promote-") as scratch:
        copy_dir = Path(scratch)
        for path in stacks_dir.glob("Pulumi.*.yaml"):
            (copy_dir / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        (copy_dir / target.name).write_text(new_text, encoding="utf-8")
        planned = copy_dir / target.name
        return runner.plan_stacks([planned], jobs=1, context=sorted(copy_dir.glob("Pulumi.*.yaml")),
                                  timeout=timeout)[-1]


def write_atomically(path: Path, text: str) -> None:
    from platform_lib.plan.report import write_atomically as write

    write(path, text)


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments, key order, flow style and quotes of the file are kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def edited(text: str, edit: Callable[[CommentedMap], None]) -> str:
    """A stack file's text after ``edit`` changed its ``config`` mapping in place; comments and order kept."""
    yaml = _yaml()
    document = yaml.load(text)
    edit(document["config"])
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def record_version(config: CommentedMap, model: str, version: int) -> None:
    """``ml-platform:modelVersions.<model> = version`` in a stack file's config mapping."""
    key = f"{NAMESPACE}:modelVersions"
    if key not in config:
        config[key] = CommentedMap()
    config[key][model] = version


def set_model_version(path: Path, model: str, version: int) -> None:
    """Record in a stack file (``ml-platform:modelVersions``) the package version it serves; comments kept."""
    text = edited(path.read_text(encoding="utf-8"), lambda config: record_version(config, model, version))
    write_atomically(path, text)


def model_version(path: Path, model: str) -> int | None:
    versions = raw_config(path).get(f"{NAMESPACE}:modelVersions") or {}
    value = versions.get(model)
    return int(value) if value is not None else None
