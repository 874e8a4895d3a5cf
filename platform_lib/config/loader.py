"""Read and validate stack files, and the same config from inside a running Pulumi program.

Errors never surface as tracebacks: they become ``ConfigError`` naming the file, the YAML path of the
offending key, its line, the value given and what is allowed. Messages are plain text (a CLI that
prints through a markup renderer escapes them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from .schema import ENVIRONMENT_DEFAULTS, Invalid, PlatformConfig, StackConfig, TeamConfig

NAMESPACE = "ml-platform"
TOP_LEVEL_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# A stack file is a few hundred YAML nodes at most; aliases may not expand it beyond this
# (a "billion laughs" document would otherwise hang validation and JSON encoding).
MAX_EXPANDED_NODES = 10_000
_ADAPTER: TypeAdapter[PlatformConfig | TeamConfig] = TypeAdapter(StackConfig)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Keys whose values are digits that must stay text: the file must quote them.
QUOTED_KEYS = ("accountId",)
_DEFAULTED = {section for defaults in ENVIRONMENT_DEFAULTS.values() for section in defaults}

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path}: {self.message}"


class ConfigError(Exception):
    """A stack's configuration is invalid; ``problems`` says where and why."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid stack config {source}:\n{lines}")


@dataclass(frozen=True)
class StackFile:
    """A stack file: its stack name, the validated config and the raw Pulumi config map.

    ``key_lines`` maps each key's YAML path (``ml-platform:network.cidrs``, ``config``) to its line.
    """

    path: Path
    name: str
    config: PlatformConfig | TeamConfig
    pulumi_config: dict[str, str]
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line(self, key: str) -> int | None:
        """The line of a key, e.g. ``line("ml-platform:platformStack")``; None if the file lacks it."""
        return self.key_lines.get(key)

    @property
    def platform(self) -> PlatformConfig:
        """The config, which must be a platform stack's."""
        if not isinstance(self.config, PlatformConfig):
            raise TypeError(f"{self.path}: a team stack, not a platform stack")
        return self.config

    @property
    def team(self) -> TeamConfig:
        """The config, which must be a team stack's."""
        if not isinstance(self.config, TeamConfig):
            raise TypeError(f"{self.path}: a platform stack, not a team stack")
        return self.config


def stack_name(path: Path) -> str:
    name = path.name
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")):
        raise ConfigError(str(path), [Problem("(file name)", "stack files are named Pulumi.<stack>.yaml")])
    return name[len("Pulumi."):-len(".yaml")]


def load_stack_file(path: Path) -> StackFile:
    """Parse and validate one ``stacks/Pulumi.<stack>.yaml``."""
    source = str(path)
    name = stack_name(path)
    root, document = _parse(path)
    key_lines = _key_lines(root)
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(source, [Problem("config", "the file needs a top-level 'config:' mapping", 1)])
    unknown_top = sorted(str(k) for k in set(document) - set(TOP_LEVEL_KEYS))
    if unknown_top:
        raise ConfigError(source, [Problem(k, f"unknown top-level key; allowed: {', '.join(TOP_LEVEL_KEYS)}",
                                           _line(key_lines, (k,))) for k in unknown_top])
    raw = document["config"]
    problems = [
        Problem(f"config.{key}", f"key needs a namespace, e.g. '{NAMESPACE}:{key}'", _line(key_lines, ("config", key)))
        for key in raw if ":" not in str(key)
    ]
    if problems:
        raise ConfigError(source, problems)
    problems = list(_unquoted(root))
    if problems:
        raise ConfigError(source, problems)
    ours = {key.split(":", 1)[1]: value for key, value in raw.items() if key.startswith(f"{NAMESPACE}:")}
    config = validate(ours, source,
                      lines=lambda loc: _line(key_lines, ("config", f"{NAMESPACE}:{loc[0]}", *loc[1:])))
    pulumi_config = {key: value if isinstance(value, str) else json.dumps(value, default=str)
                     for key, value in raw.items()}
    return StackFile(path=path, name=name, config=config, pulumi_config=pulumi_config, key_lines=key_lines)


def platform_stack_file(team: StackFile) -> StackFile:
    """The platform stack a team stack reads, loaded from the team file's directory.

    Refuses, at the team file's ``platformStack`` (or ``environment``) line, a platform stack that has
    no file or that is not a platform stack.
    """
    if not isinstance(team.config, TeamConfig):
        raise TypeError(f"{team.name} is a platform stack; only team stacks read a platform stack")
    name = team.config.platform_stack_name
    key = f"{NAMESPACE}:platformStack" if team.config.platform_stack else f"{NAMESPACE}:environment"
    how = "" if team.config.platform_stack else f" (the default for environment {team.config.environment})"
    path = team.path.parent / f"Pulumi.{name}.yaml"
    if not path.is_file():
        raise ConfigError(str(team.path), [Problem(
            key, f"the platform stack {name}{how} has no stack file: {path} does not exist", team.line(key))])
    platform = load_stack_file(path)
    if not isinstance(platform.config, PlatformConfig):
        raise ConfigError(str(team.path), [Problem(
            key, f"{name}{how} is a {platform.config.kind} stack ({path}), not a platform stack", team.line(key))])
    return platform


def validate(values: Mapping[str, Any], source: str,
             lines: Callable[[Loc], int | None] = lambda loc: None) -> PlatformConfig | TeamConfig:
    """Validate namespace-stripped config values; raise ``ConfigError`` with one problem per error."""
    if "kind" not in values:
        raise ConfigError(source, [Problem(f"{NAMESPACE}:kind", "missing; allowed: platform, team")])
    try:
        return _ADAPTER.validate_python(dict(values))
    except ValidationError as exc:
        errors = exc.errors()
        if any(_loc(error) == ("environment",) for error in errors):
            # Without a valid environment no defaults were merged: missing sections are not news.
            errors = [e for e in errors if not (e["type"] == "missing" and _loc(e)[0] in _DEFAULTED)]
        raise ConfigError(source, [_problem(error, lines) for error in errors]) from None


def from_pulumi_config() -> PlatformConfig | TeamConfig:
    """Read this stack's config inside a running Pulumi program (real engine or mocks)."""
    import pulumi

    config = pulumi.Config(NAMESPACE)
    values: dict[str, Any] = {}
    for name in _all_aliases():
        text = config.get(name)
        if text is not None:
            values[name] = _decode(text)
    return validate(values, f"stack {pulumi.get_stack()}")


def _parse(path: Path) -> tuple[yaml.Node | None, Any]:
    """The file's composed YAML tree and its document, refusing what a stack file must not be."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(source, [Problem("(file)", exc.strerror or str(exc))]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, [Problem(
            "(file)", f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded; save the file as UTF-8",
            data[:exc.start].count(b"\n") + 1)]) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        problems = list(_duplicate_keys(root))
        if problems:
            raise ConfigError(source, problems)
        size = _expanded_size(root)
        if size > MAX_EXPANDED_NODES:
            raise ConfigError(source, [Problem(
                "(yaml)", f"the document expands to more than {MAX_EXPANDED_NODES} values through aliases "
                          f"({size}); a stack file needs far fewer")])
        document = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark else None
        raise ConfigError(source, [Problem("(yaml)", f"not valid YAML: {reason}", line)]) from None
    except RecursionError:
        raise ConfigError(source, [Problem("(yaml)", "not a stack file: values are nested too deeply")]) from None
    finally:
        loader.dispose()
    return root, document


def _yaml_path(keys: tuple[str, ...]) -> str:
    """``("config", "ml-platform:network", "cidrs")`` -> ``ml-platform:network.cidrs``."""
    if len(keys) > 1 and keys[0] == "config" and ":" in keys[1]:
        keys = keys[1:]
    return ".".join(keys)


def _walk(root: yaml.Node | None) -> Iterator[tuple[tuple[str, ...], yaml.MappingNode | yaml.SequenceNode]]:
    """Every mapping and list of the tree once (aliases are not followed twice), with its YAML path."""
    seen: set[int] = set()
    stack: list[tuple[tuple[str, ...], yaml.Node]] = [((), root)] if root is not None else []
    while stack:
        keys, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            yield keys, node
            stack.extend((keys + (str(k.value),), v) for k, v in node.value if isinstance(k, yaml.ScalarNode))
        elif isinstance(node, yaml.SequenceNode):
            yield keys, node
            stack.extend((keys + (str(i),), item) for i, item in enumerate(node.value))


def _duplicate_keys(root: yaml.Node | None) -> Iterator[Problem]:
    """YAML keeps only the last of two equal keys; a stack file must not say two things."""
    for keys, mapping in _walk(root):
        if not isinstance(mapping, yaml.MappingNode):
            continue
        first: dict[tuple[str, str], int] = {}
        for key, _ in mapping.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            line = key.start_mark.line + 1
            if (key.tag, key.value) in first:
                yield Problem(_yaml_path(keys + (key.value,)),
                              f"duplicate key: also on line {first[(key.tag, key.value)]}; a key may appear "
                              f"only once (YAML would silently keep the last)", line)
            else:
                first[(key.tag, key.value)] = line


def _expanded_size(root: yaml.Node | None) -> int:
    """How many nodes the document holds once every alias is expanded (computed without expanding)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            sizes[id(node)] = 1  # a node that (wrongly) contains itself counts once
            if isinstance(node, yaml.MappingNode):
                sizes[id(node)] = 1 + sum(size(k) + size(v) for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                sizes[id(node)] = 1 + sum(size(item) for item in node.value)
        return sizes[id(node)]

    return size(root) if root is not None else 0


def _key_lines(root: yaml.Node | None) -> dict[str, int]:
    """The line of every key and list item, by YAML path (``ml-platform:servingRegions.1``)."""
    lines: dict[str, int] = {}
    for keys, node in _walk(root):
        if isinstance(node, yaml.MappingNode):
            lines.update((_yaml_path(keys + (str(k.value),)), k.start_mark.line + 1)
                         for k, _ in node.value if isinstance(k, yaml.ScalarNode))
        else:
            lines.update((_yaml_path(keys + (str(i),)), item.start_mark.line + 1) for i, item in enumerate(node.value))
    return lines


def _decode(text: str) -> Any:
    """Pulumi hands structured values over as JSON text and scalars as plain text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (dict, list)) else text


def _all_aliases() -> list[str]:
    names: list[str] = []
    for model in (PlatformConfig, TeamConfig):
        for name, info in model.model_fields.items():
            alias = info.alias or name
            if alias not in names:
                names.append(alias)
    return names


def _loc(error: Mapping[str, Any]) -> Loc:
    """An error's location as a YAML path below the namespace."""
    loc: Loc = tuple(error["loc"])
    if loc and loc[0] in ("platform", "team"):  # the discriminated union prefixes its tag
        loc = loc[1:]
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))


def _problem(error: Mapping[str, Any], lines: Callable[[Loc], int | None]) -> Problem:
    loc = _loc(error)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, Invalid):  # a cross-field rule names the field it is about
        loc = loc + cause.at
    if error["type"] == "union_tag_invalid":
        loc = ("kind",)
    path = f"{NAMESPACE}:" + ".".join(str(p) for p in loc) if loc else f"{NAMESPACE}:(stack)"
    return Problem(path, _message(error), lines(loc) if loc else None)


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's message in the stack file's terms, naming the value given."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    message = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error" and "expected" in ctx:
        return f"{_show(value, quote=True)} is not allowed; allowed: {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return f"{_show(value, quote=True)} does not match {ctx['pattern']}"
    if kind == "union_tag_invalid":
        return f"{_show(ctx.get('tag'), quote=True)} is not a stack kind; allowed: platform, team"
    if kind.endswith("_type"):  # a wrong type: say what was given and what is expected
        expected = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping", message.removeprefix("Input "))
        return f"{_show(value, quote=True)} is {_type_name(value)}; {expected}"
    if message.startswith("Input "):
        return f"{_show(value)} {message.removeprefix('Input ')}"
    return message


def _show(value: Any, quote: bool = False) -> str:
    """A value as the stack file would spell it, short and plain (no markup, no Python repr noise)."""
    if isinstance(value, str):
        plain = not quote and re.fullmatch(r"[\w./:@+-]+", value)
        text = value if plain else repr(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
             dict: "a mapping", type(None): "empty"}
    return names.get(type(value), f"a {type(value).__name__}")


def _unquoted(root: yaml.Node | None) -> Iterator[Problem]:
    """Values of ``QUOTED_KEYS`` written without quotes, whatever YAML made of them."""
    config = _value(root, "config")
    for key in QUOTED_KEYS:
        node = _value(config, f"{NAMESPACE}:{key}")
        if isinstance(node, yaml.ScalarNode) and node.style is None:
            yield Problem(f"{NAMESPACE}:{key}", f"{node.value} is not quoted: write {key}: \"{node.value}\". YAML "
                                                f"may read unquoted digits as a number, which loses leading zeros "
                                                f"(012345678901) or reads them as octal (012345670123 is 1402433619)",
                          node.start_mark.line + 1)


def _value(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((v for k, v in mapping.value if k.value == key), None)


def _line(key_lines: Mapping[str, int], path: tuple[str | int, ...]) -> int | None:
    """The line of the deepest key along ``path`` that the file has.

    Below ``config`` the key itself must exist: a key the file lacks has no line of its own.
    """
    for depth in range(len(path), 0, -1):
        line = key_lines.get(_yaml_path(tuple(str(p) for p in path[:depth])))
        if line is not None and (depth > 1 or len(path) == 1):
            return line
    return None
