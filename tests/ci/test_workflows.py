"""Every workflow file passes check-jsonschema's GitHub workflow schema, and the pull-request workflow's
summary is what a reviewer reads: the stacks the change affects, their changes and previews."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from platform_lib.plan.diff import diff_plans
from platform_lib.promotion import pr_summary

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.y*ml"))
CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid_for_github(workflow):
    result = validate(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_refuses_a_broken_workflow(tmp_path):
    broken = yaml.safe_load((ROOT / ".github/workflows/pull-request.yml").read_text())
    broken["jobs"]["plan-diff"]["runs-on"] = None
    broken["jobs"]["comment"]["permissions"]["pull-requests"] = "sometimes"
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = validate(path)
    assert result.returncode == 1 and "pull-requests" in result.stdout + result.stderr


def test_pull_request_workflow_plans_base_and_head_and_posts_one_comment():
    workflow = (ROOT / ".github/workflows/pull-request.yml").read_text()
    jobs = yaml.safe_load(workflow)["jobs"]
    assert set(jobs) == {"plan-diff", "preview", "comment"}
    runs = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    assert "plan --all --no-tree --json" in runs and "--diff \"$RUNNER_TEMP/base.json\"" in runs
    assert "--policy-pack policies" in runs and "pr_summary comment" in runs
    assert jobs["comment"]["permissions"]["pull-requests"] == "write"
    assert "id-token" not in jobs["comment"]["permissions"]  # only the preview job assumes a role
    assert "vars.PREVIEW_ROLE_ARN != ''" in jobs["preview"]["if"]


def _resource(name: str, **inputs) -> dict:
    return {"urn": f"urn:pulumi:s::p::aws:s3/bucketV2:BucketV2::{name}", "type": "aws:s3/bucketV2:BucketV2",
            "name": name, "inputs": inputs}


def _plans():
    base = {"fraud-dev": {"environment": "dev", "resources": [_resource("raw", tags={"a": "1"}), _resource("old")],
                          "violations": []},
            "vision-dev": {"environment": "dev", "resources": [_resource("v")], "violations": []}}
    head = {"fraud-dev": {"environment": "dev", "resources": [_resource("raw", tags={"a": "2"}), _resource("new")],
                          "violations": [{"rule": "s3-encryption", "resource": "new", "urn": "u",
                                          "message": "bucket new is not encrypted with the team key"}]},
            "vision-dev": {"environment": "dev", "resources": [_resource("v")], "violations": []}}
    return base, head


def test_summary_lists_only_affected_stacks_with_their_changes_and_previews():
    base, head = _plans()
    diff = diff_plans(base, head, complete=True)
    assert pr_summary.affected(diff) == ["fraud-dev"]
    text = pr_summary.comment(diff, {"fraud-dev": "Previewing update (fraud-dev)\n+ 1 to create"})
    assert text.startswith(pr_summary.MARKER + "\n")
    assert "| `fraud-dev` | 1 | 1 | 1 | 1 | 0 |" in text and "vision-dev" not in text
    assert "- new violation **s3-encryption** on `new`: bucket new is not encrypted with the team key" in text
    assert "- `~` aws:s3/bucketV2:BucketV2 `raw`: tags" in text
    assert "+ 1 to create" in text


def test_summary_says_when_preview_did_not_run_and_when_nothing_changed():
    base, head = _plans()
    text = pr_summary.comment(diff_plans(base, head, complete=True), {})
    assert "`pulumi preview`: not run (no cloud credentials" in text
    same = pr_summary.comment(diff_plans(base, base, complete=True))
    assert "No stack changes" in same and "|" not in same


def test_summary_cli_runs_on_a_bare_python_as_in_the_comment_job(tmp_path):
    """The comment job has no venv: the module must need the standard library only (python -S)."""
    base, head = _plans()
    (tmp_path / "diff.json").write_text(json.dumps({"stacks": diff_plans(base, head, complete=True)}))
    (tmp_path / "head.json").write_text(json.dumps({"stacks": head}))
    (tmp_path / "previews").mkdir()
    (tmp_path / "previews/fraud-dev.txt").write_text("Resources:\n    + 1 to create\n")
    run = [sys.executable, "-S", "-m", "platform_lib.promotion.pr_summary"]
    affected = subprocess.run([*run, "affected", tmp_path / "diff.json", "--plan", tmp_path / "head.json"],
                              cwd=ROOT, capture_output=True, text=True, check=True)
    assert affected.stdout == "fraud-dev dev\n"
    comment = subprocess.run([*run, "comment", tmp_path / "diff.json", "--previews", tmp_path / "previews"],
                             cwd=ROOT, capture_output=True, text=True, check=True)
    assert "+ 1 to create" in comment.stdout
    bad = subprocess.run([*run, "comment", tmp_path / "head.json.missing"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "head.json.missing" in bad.stderr
