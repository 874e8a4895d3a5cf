"""The pull-request summary: the offline plan diff against the base branch, per affected stack, plus
`pulumi preview --policy-pack` output where CI had credentials, as one Markdown comment.

    python -m platform_lib.promotion.pr_summary affected DIFF.json --plan HEAD.json   # "stack env" lines
    python -m platform_lib.promotion.pr_summary comment DIFF.json [--previews DIR] > summary.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- mlp-plan-summary -->"
"""First line of the comment: CI finds and edits its earlier comment instead of adding one per push."""
PREVIEW_LIMIT = 60_000
"""GitHub refuses comments over 65,536 characters; a preview is cut to fit beside the diff."""
_KINDS = ("added", "changed", "removed", "newViolations", "fixedViolations")


def affected(diff: dict[str, dict[str, Any]]) -> list[str]:
    """The stacks the change affects: any resource added, changed or removed, or a violation new or fixed."""
    return [name for name, d in diff.items() if d["status"] != "compared" or any(d[k] for k in _KINDS)]


def load_stacks(path: Path, what: str) -> dict[str, dict[str, Any]]:
    """The ``stacks`` of a JSON file written by `mlp plan` (``what`` names the option that writes it)."""
    try:
        stacks = json.loads(path.read_text(encoding="utf-8"))["stacks"]
        if not isinstance(stacks, dict):
            raise TypeError("'stacks' is not a mapping")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a `mlp plan {what}` file ({type(exc).__name__}: {exc})") from None
    return stacks


def comment(diff: dict[str, dict[str, Any]], previews: dict[str, str] | None = None) -> str:
    """The Markdown comment: a table of every affected stack, then each stack's changes and preview."""
    previews = previews or {}
    names = affected(diff)
    lines = [MARKER, "## Plan of this pull request against the base branch", ""]
    if not names:
        lines.append("No stack changes: the offline plan is the same as the base branch's.")
        return "\n".join(lines) + "\n"
    lines += ["| stack | added | changed | removed | new violations | fixed |", "|---|---:|---:|---:|---:|---:|"]
    for name in names:
        d = diff[name]
        label = name if d["status"] == "compared" else f"{name} ({d['status']})"
        lines.append(f"| `{label}` | " + " | ".join(str(len(d[k])) for k in _KINDS) + " |")
    budget = PREVIEW_LIMIT // max(1, len(names))
    for name in names:
        d = diff[name]
        lines += ["", f"### `{name}`", ""]
        lines += [f"- new violation **{v['rule']}** on `{v.get('resource') or '(stack)'}`: {v['message']}"
                  for v in d["newViolations"]]
        lines += [f"- fixed **{v['rule']}** on `{v.get('resource') or '(stack)'}`" for v in d["fixedViolations"]]
        lines += [f"- `+` {r['type']} `{r['name']}`" for r in d["added"]]
        lines += [f"- `-` {r['type']} `{r['name']}`" for r in d["removed"]]
        lines += [f"- `~` {c['type']} `{c['name']}`: " + ", ".join(c["inputs"] + [f"({o})" for o in c["options"]])
                  for c in d["changed"]]
        preview = previews.get(name)
        if preview is None:
            lines += ["", "_`pulumi preview`: not run (no cloud credentials for this pull request)._"]
        else:
            text = preview if len(preview) <= budget else preview[-budget:]
            cut = "" if text is preview else " (last part)"
            lines += ["", f"<details><summary><code>pulumi preview --policy-pack policies</code>{cut}</summary>",
                      "", "```", text.rstrip().replace("```", "'''"), "```", "</details>"]
    return "\n".join(lines) + "\n"


def _read_previews(directory: Path | None) -> dict[str, str]:
    if directory is None or not directory.is_dir():
        return {}
    return {path.stem: path.read_text(encoding="utf-8", errors="replace") for path in sorted(directory.glob("*.txt"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_lib.promotion.pr_summary", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["affected", "comment"])
    parser.add_argument("diff", type=Path, help="the --diff-json file of `mlp plan --diff`")
    parser.add_argument("--plan", type=Path, help="the --json file of the same run: each stack's environment")
    parser.add_argument("--previews", type=Path, help="directory of <stack>.txt outputs of pulumi preview")
    args = parser.parse_args(argv)
    try:
        stacks = load_stacks(args.diff, "--diff-json")
        planned = load_stacks(args.plan, "--json") if args.plan else {}
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.what == "affected":
        for name in affected(stacks):
            print(name, planned.get(name, {}).get("environment") or "")
    else:
        sys.stdout.write(comment(stacks, _read_previews(args.previews)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
