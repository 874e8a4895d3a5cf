"""``model_card.json``: what a reviewer or the model registry needs to know about a trained model.

The runtime fills in provenance (when, which job, which code revision, which framework versions);
user code adds what only it knows (hyperparameters, metrics, data, schema) as keyword sections.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = 1
FILE_NAME = "model_card.json"


def git_revision() -> str:
    """``GIT_REVISION`` (baked into the image at build time), else ``git rev-parse``, else ``unknown``."""
    revision = os.environ.get("GIT_REVISION", "").strip()
    if revision and revision != "unknown":
        return revision
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def build(*, job_name: str | None, **sections: Any) -> dict[str, Any]:
    """The card as a JSON-ready dict: provenance, then ``sections`` (e.g. ``metrics=...``, ``schema=...``)."""
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_job_name": job_name,
        "git_revision": git_revision(),
        "framework_versions": {"torch": _version("torch"), "python": platform.python_version()},
        **sections,
    }


def write(model_dir: Path, card: dict[str, Any]) -> Path:
    """Write ``card`` as ``model_card.json`` in ``model_dir``."""
    path = model_dir / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path
