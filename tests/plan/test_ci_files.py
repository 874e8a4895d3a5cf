"""The CI and deployment files are consistent with the project: they parse, and what they call exists."""

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_workflows_parse_and_promote_dev_staging_prod_in_order():
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    jobs = ci["jobs"]
    assert jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    assert [jobs[env]["with"]["environment"] for env in ("dev", "staging", "prod")] == ["dev", "staging", "prod"]
    deploy = yaml.safe_load((ROOT / ".github/workflows/deploy-environment.yml").read_text())
    assert deploy["permissions"]["id-token"] == "write"  # OIDC, no static keys
    steps = deploy["jobs"]["deploy"]["steps"]
    assert any(".ci/deploy" in step.get("run", "") for step in steps)


def test_scripts_are_valid_bash_and_ci_run_calls_make_test():
    for script in (ROOT / ".ci/run", ROOT / ".ci/deploy"):
        subprocess.run(["bash", "-n", str(script)], check=True)
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_policy_configs_exist_for_every_environment():
    from platform_lib.config.schema import ENVIRONMENTS

    assert all((ROOT / "policies/config" / f"{env}.json").is_file() for env in ENVIRONMENTS)
