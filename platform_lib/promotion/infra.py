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
class Change:
    """One promotable key whose value differs: ``path`` below ``ml-platform:``; ``None`` side = absent."""

    path: tuple[str, ...]
    target: Any
    source: Any

    @property
    def key(self) -> str:
        return ".".join(self.path)


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


def _diff(model: type[BaseModel], src: Mapping[str, Any], dst: Mapping[str, Any], at: tuple[str, ...],
          environments: tuple[str, str]) -> Iterator[Change]:
    fields = _fields(model)
    defaulted: set[str] = set()
    if isinstance(model, type) and issubclass(model, Section):
        for env in environments:
            defaulted |= set(model.DEFAULTS.get(env, {}))  # type: ignore[call-overload]
    for key in [*dst, *(k for k in src if k not in dst)]:
        if not at and key in IDENTITY:
            continue
        field = fields.get(key)
        if field is not None and per_environment(field) or key in defaulted:
            continue
        old, new = dst.get(key), src.get(key)  # None: the file does not state it
        if _plain(old) == _plain(new):
            continue
        section = _section_type(field)
        if section is not None and isinstance(old, Mapping | None) and isinstance(new, Mapping | None):
            yield from _diff(section, new or {}, old or {},
                             (*at, key), environments)
        else:
            yield Change((*at, key), _plain(old), _plain(new))


def _section_type(field: Any) -> type[BaseModel] | None:
    import typing

    annotation = getattr(field, "annotation", None)
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


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
        node = config
        path = [f"{NAMESPACE}:{key}", *rest]
        for part in path[:-1]:
            if part not in node:
                node[part] = CommentedMap()
            node = node[part]
        if change.source is None:
            del node[path[-1]]
            if not node and len(path) > 1:  # the section is now empty: drop its key too
                del config[path[0]]
        elif isinstance(node.get(path[-1]), (CommentedMap, CommentedSeq)):
            _merge_into(node, path[-1], change.source)
        else:
            node[path[-1]] = copy.deepcopy(change.source)
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


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
