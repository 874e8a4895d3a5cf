"""`mlp plan --diff BASE.json`: what a change does to each stack, against a plan JSON of the base.

Resources are matched by URN: added, removed, and changed (which inputs, which options); violations
by rule and resource: new and fixed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

_OPTIONS = ("protect", "retainOnDelete", "parent", "provider")


def load_base(path: Path) -> dict[str, dict[str, Any]]:
    """The stacks of a plan JSON written by `mlp plan --json`; ValueError naming the file otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--diff {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--diff {path}: not a plan JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("stacks"), dict):
        raise ValueError(f"--diff {path}: not a plan JSON written by `mlp plan --json` (no 'stacks')")
    if document.get("error"):
        raise ValueError(f"--diff {path}: that plan failed ({document['error']}); nothing to compare with")
    return document["stacks"]


def diff_plans(base: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]],
               complete: bool) -> dict[str, dict[str, Any]]:
    """Per stack of ``current`` (and, if ``complete``, stacks only in ``base``): the changes."""
    names = list(current) + ([n for n in sorted(base) if n not in current] if complete else [])
    return {name: diff_stack(base.get(name), current.get(name)) for name in names}


def diff_stack(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    old = {r["urn"]: r for r in (before or {}).get("resources", [])}
    new = {r["urn"]: r for r in (after or {}).get("resources", [])}
    changed = []
    for urn in sorted(old.keys() & new.keys()):
        inputs = _changed_keys(old[urn].get("inputs", {}), new[urn].get("inputs", {}))
        options = [o for o in _OPTIONS if old[urn].get(o) != new[urn].get(o)]
        if inputs or options:
            changed.append({"urn": urn, "type": new[urn]["type"], "name": new[urn]["name"],
                            "inputs": inputs, "options": options})
    old_v = {_violation_key(v): v for v in (before or {}).get("violations", [])}
    new_v = {_violation_key(v): v for v in (after or {}).get("violations", [])}
    status = "added" if before is None else "removed" if after is None else "compared"
    return {
        "status": status,
        "added": [_ref(new[u]) for u in sorted(new.keys() - old.keys())],
        "removed": [_ref(old[u]) for u in sorted(old.keys() - new.keys())],
        "changed": changed,
        "newViolations": [new_v[k] for k in sorted(new_v.keys() - old_v.keys())],
        "fixedViolations": [old_v[k] for k in sorted(old_v.keys() - new_v.keys())],
    }


def _changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _violation_key(v: dict[str, Any]) -> tuple[str, str]:
    return (v.get("rule") or "", v.get("urn") or "")


def _ref(resource: dict[str, Any]) -> dict[str, str]:
    return {"urn": resource["urn"], "type": resource["type"], "name": resource["name"]}


def table(diff: dict[str, dict[str, Any]]) -> Table:
    result = Table(title="plan diff", pad_edge=False)
    result.add_column("stack", no_wrap=True)
    for column in ("added", "changed", "removed", "new viol.", "fixed"):
        result.add_column(column, justify="right", no_wrap=True)
    for name, d in diff.items():
        label = escape(name) + ("" if d["status"] == "compared" else f" ({d['status']})")
        result.add_row(label, *(str(len(d[k])) for k in ("added", "changed", "removed", "newViolations",
                                                           "fixedViolations")))
    return result


def details(diff: dict[str, dict[str, Any]]) -> list[str]:
    """One line per change (rich markup, values escaped)."""
    lines = []
    for name, d in diff.items():
        stack = escape(name)
        lines += [f"[green]+[/] {stack} {escape(r['type'])} [bold]{escape(r['name'])}[/]" for r in d["added"]]
        lines += [f"[red]-[/] {stack} {escape(r['type'])} [bold]{escape(r['name'])}[/]" for r in d["removed"]]
        lines += [f"[yellow]~[/] {stack} {escape(c['type'])} [bold]{escape(c['name'])}[/]: "
                  f"{escape(', '.join(c['inputs'] + [f'({o})' for o in c['options']]))}" for c in d["changed"]]
        lines += [f"[red]new violation[/] {stack} {escape(v['rule'])} {escape(v.get('resource') or '(stack)')}: "
                  f"{escape(v['message'])}" for v in d["newViolations"]]
        lines += [f"[green]fixed[/] {stack} {escape(v['rule'])} {escape(v.get('resource') or '(stack)')}"
                  for v in d["fixedViolations"]]
    return lines
