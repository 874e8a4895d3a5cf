"""The training image stays consistent with the project: same torch pin, same entry point."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "training" / "Dockerfile").read_text()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert match, f"ARG {name} with a default"
    return match.group(1)


def test_torch_pin_matches_the_training_extra() -> None:
    pins = dict(dep.split("==", 1) for dep in PROJECT["optional-dependencies"]["training"])
    assert _arg("TORCH_VERSION") == pins["torch"]
    assert 'pip install "/src[training]"' in DOCKERFILE


def test_default_base_is_cpu_python_the_project_supports() -> None:
    base = _arg("BASE_IMAGE")
    assert base.startswith("python:") and _arg("TORCH_INDEX_URL").endswith("/whl/cpu")
    required = re.fullmatch(r">=(\d+)\.(\d+)", PROJECT["requires-python"])
    image = re.match(r"python:(\d+)\.(\d+)", base)
    assert required and image and tuple(map(int, image.groups())) >= tuple(map(int, required.groups()))


def test_docker_run_image_train_reaches_the_console_script() -> None:
    assert PROJECT["scripts"]["train"] == "training.__main__:main"
    assert re.search(r'^ENTRYPOINT \["/usr/bin/tini", "--"\]$', DOCKERFILE, re.MULTILINE)
    assert re.search(r'^CMD \["train"\]$', DOCKERFILE, re.MULTILINE)


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "**/.venv*", "**/__pycache__", "**/.pytest_cache"} <= ignored


def test_image_does_not_install_the_control_plane() -> None:
    installed = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["training"]
    assert not [dep for dep in installed if dep.startswith("pulumi")]
