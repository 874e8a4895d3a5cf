"""Read and validate stack files, and the same config from inside a running Pulumi program.

Errors never surface as tracebacks: they become ``ConfigError`` naming the file, the YAML path of the
offending key, its line, and what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from .schema import PlatformConfig, StackConfig, TeamConfig

NAMESPACE = "ml-platform"
_ADAPTER: TypeAdapter[PlatformConfig | TeamConfig] = TypeAdapter(StackConfig)


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
    """A stack file: its stack name, the validated config and the raw Pulumi config map."""

    path: Path
    name: str
    config: PlatformConfig | TeamConfig
    pulumi_config: dict[str, str]


def stack_name(path: Path) -> str:
    name = path.name
    if not (name.startswith("Pulumi.") and name.endswith(".yaml")):
        raise ConfigError(str(path), [Problem("(file name)", "stack files are named Pulumi.<stack>.yaml")])
    return name[len("Pulumi."):-len(".yaml")]


def load_stack_file(path: Path) -> StackFile:
    """Parse and validate one ``stacks/Pulumi.<stack>.yaml``."""
    source = str(path)
    name = stack_name(path)
    try:
        text = path.read_text()
        root = yaml.compose(text)
        document = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(source, [Problem("(file)", exc.strerror or str(exc))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [Problem("(yaml)", f"not valid YAML: {reason}", line)]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(source, [Problem("config", "the file needs a top-level 'config:' mapping", 1)])
    unknown_top = sorted(set(document) - {"config", "secretsprovider", "encryptedkey", "encryptionsalt",
                                          "environment"})
    if unknown_top:
        raise ConfigError(source, [Problem(k, "unknown top-level key; allowed: config, secretsprovider, "
                                              "encryptedkey, encryptionsalt, environment",
                                           _line(root, (k,))) for k in unknown_top])
    raw = document["config"]
    problems = [
        Problem(f"config.{key}", f"key needs a namespace, e.g. '{NAMESPACE}:{key}'", _line(root, ("config", key)))
        for key in raw if ":" not in str(key)
    ]
    if problems:
        raise ConfigError(source, problems)
    ours = {key.split(":", 1)[1]: value for key, value in raw.items() if key.startswith(f"{NAMESPACE}:")}
    config = validate(ours, source, lines=lambda loc: _line(root, ("config", f"{NAMESPACE}:{loc[0]}", *loc[1:])))
    pulumi_config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in raw.items()}
    return StackFile(path=path, name=name, config=config, pulumi_config=pulumi_config)


def validate(values: Mapping[str, Any], source: str, lines=lambda loc: None) -> PlatformConfig | TeamConfig:
    """Validate namespace-stripped config values; raise ``ConfigError`` with one problem per error."""
    if "kind" not in values:
        raise ConfigError(source, [Problem(f"{NAMESPACE}:kind", "missing; allowed: platform, team")])
    try:
        return _ADAPTER.validate_python(dict(values))
    except ValidationError as exc:
        raise ConfigError(source, [_problem(error, lines) for error in exc.errors()]) from None


def from_pulumi_config(model: type[PlatformConfig] | type[TeamConfig] | None = None) -> PlatformConfig | TeamConfig:
    """Read this stack's config inside a running Pulumi program (real engine or mocks)."""
    import pulumi

    config = pulumi.Config(NAMESPACE)
    values: dict[str, Any] = {}
    for name in _all_aliases():
        text = config.get(name)
        if text is not None:
            values[name] = _decode(text)
    return validate(values, f"stack {pulumi.get_stack()}")


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
        for name, field in model.model_fields.items():
            alias = field.alias or name
            if alias not in names:
                names.append(alias)
    return names


def _problem(error: Mapping[str, Any], lines) -> Problem:
    loc = tuple(error["loc"])
    if loc and loc[0] in ("platform", "team"):  # the discriminated union prefixes its tag
        loc = loc[1:]
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    message = _message(error)
    if error["type"] == "union_tag_invalid":
        loc = ("kind",)
    path = f"{NAMESPACE}:" + ".".join(str(p) for p in loc) if loc else f"{NAMESPACE}:(stack)"
    return Problem(path, message, lines(loc) if loc else None)


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's message in the stack file's terms, naming the value given."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    message = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error" and "expected" in ctx:
        return f"{value!r} is not allowed; allowed: {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not match {ctx['pattern']}"
    if kind == "union_tag_invalid":
        return f"{ctx.get('tag')!r} is not a stack kind; allowed: platform, team"
    if kind.endswith("_type"):  # a wrong type: say what was given
        return f"{_show(value, quote=True)} is {_type_name(value)}; {message.removeprefix('Input ')}"
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


def _line(root: yaml.Node | None, path: tuple) -> int | None:
    """The 1-based line of the deepest node along ``path`` in the composed YAML tree."""
    node, line, depth = root, None, 0
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            line, node, depth = match[0].start_mark.line + 1, match[1], depth + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node, depth = node.value[key], depth + 1
            line = node.start_mark.line + 1
        else:
            break
    # A path that ends at "config:" only (a key the file does not have) has no line of its own.
    return line if depth > 1 or len(path) == 1 else None
