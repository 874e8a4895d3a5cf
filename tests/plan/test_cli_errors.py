"""Issue 8: never a silently wrong stack, never a wrong exit code, never a stale report, readable errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS, STACKS = ROOT / "tests/plan/programs", ROOT / "stacks"


# -- item 3: the collision check whatever was asked ---------------------------------------------------

def test_a_copied_team_stack_planned_alone_is_caught_against_the_directory(mlp, dev_stacks):
    shutil.copy(dev_stacks / "Pulumi.fraud-dev.yaml", dev_stacks / "Pulumi.search-dev.yaml")
    result = mlp("plan", "--stack", "search-dev", "--stacks-dir", dev_stacks)
    assert result.returncode == 2, result.stdout
    assert "physical name collision: stacks fraud-dev, search-dev" in result.stdout


def test_an_unrelated_invalid_stack_file_does_not_block_planning_another(mlp, dev_stacks):
    (dev_stacks / "Pulumi.broken-dev.yaml").write_text("config:\n  ml-platform:kind: lab\n")
    result = mlp("plan", "--stack", "fraud-dev", "--stacks-dir", dev_stacks)
    assert result.returncode == 0, result.stdout + result.stderr


# -- item 4: duplicate URNs ------------------------------------------------------------------------

def test_two_resources_with_the_same_type_and_name_fail_the_program(mlp):
    result = mlp("plan", "--program", PROGRAMS / "duplicate_urn")
    assert result.returncode == 2
    assert ("duplicate resource URN 'urn:pulumi:plan::ml-platform::aws:s3/bucket:Bucket::data'"
            in result.stdout.replace("\n", ""))


# -- item 6: exit 2 with one message, --json checked before planning -------------------------------

def test_json_pointing_at_a_directory_is_refused_before_planning(mlp, tmp_path):
    result = mlp("plan", "--all", "--json", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"--json {tmp_path} is a directory; give a file path"
    assert "planned" not in result.stderr and result.stdout == ""


def test_json_that_cannot_be_written_is_refused_before_planning(mlp, tmp_path):
    (tmp_path / "file").write_text("")
    result = mlp("plan", "--all", "--json", tmp_path / "file" / "plan.json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"--json {tmp_path / 'file' / 'plan.json'} cannot be written: ")


def test_a_non_utf8_stack_file_is_exit_2_naming_the_file(mlp, dev_stacks):
    path = dev_stacks / "Pulumi.fraud-dev.yaml"
    path.write_bytes(path.read_bytes().replace(b"fraud", b"fr\xe4ud", 1))
    result = mlp("plan", "--all", "--stacks-dir", dev_stacks)
    assert result.returncode == 2
    assert str(path) in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_an_unexpected_error_is_exit_2_with_one_line_not_a_traceback(monkeypatch, capsys):
    import pytest

    from platform_lib import cli
    from platform_lib.plan import runner

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner, "plan_stacks", explode)
    monkeypatch.setattr(sys, "argv", ["mlp", "plan", "--all", "--stacks-dir", str(STACKS)])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("mlp: unexpected error: RuntimeError: disk on fire (at ")


# -- item 7: sys.exit and hanging programs -------------------------------------------------------------

def test_sys_exit_in_a_program_is_a_failing_program_not_mlps_exit_code(mlp):
    result = mlp("plan", "--program", PROGRAMS / "exits")
    assert result.returncode == 2
    assert "the program called sys.exit(3) before it finished" in result.stdout


def test_a_program_that_never_finishes_is_stopped_by_the_timeout(mlp):
    result = mlp("plan", "--program", PROGRAMS / "hangs", "--timeout", "2", timeout=60)
    assert result.returncode == 2
    assert "the program did not finish within 2 s (--timeout)" in result.stdout


# -- item 9: no stale JSON --------------------------------------------------------------------------------

def test_an_early_failure_replaces_a_previous_json_by_one_that_says_it_failed(mlp, tmp_path):
    out = tmp_path / "plan.json"
    out.write_text('{"stale": true}')
    result = mlp("plan", "--stack", "nope", "--json", out)
    assert result.returncode == 2
    document = json.loads(out.read_text())
    assert document["exitCode"] == 2 and document["stacks"] == {}
    assert document["error"].startswith(f"no stack file {STACKS}/Pulumi.nope.yaml")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temporary file left


def test_the_json_is_replaced_in_one_step(tmp_path, monkeypatch):
    import os

    from platform_lib.plan import report

    out = tmp_path / "plan.json"
    out.write_text("old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("full disk")))
    try:
        report.write_atomically(out, "new")
    except OSError:
        pass
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["plan.json"]


# -- item 10: markup is printed, not interpreted; platformStack errors say exactly what ---------------

def test_user_text_that_looks_like_markup_is_printed_verbatim(mlp):
    result = mlp("plan", "--program", PROGRAMS / "markup")
    assert "team must match ^[a-z]{1,18}$, got [bold]risk" in result.stdout


def test_platform_stack_naming_a_missing_file_says_so(mlp, dev_stacks):
    path = dev_stacks / "Pulumi.fraud-dev.yaml"
    path.write_text(path.read_text() + "  ml-platform:platformStack: platform-nope\n")
    result = mlp("plan", "--stack", "fraud-dev", "--stacks-dir", dev_stacks)
    assert result.returncode == 2
    assert (f"platformStack 'platform-nope': there is no stack file Pulumi.platform-nope.yaml in {dev_stacks}"
            in result.stdout.replace("\n", ""))


def test_platform_stack_naming_a_team_stack_says_so(mlp, dev_stacks):
    shutil.copy(STACKS / "Pulumi.vision-dev.yaml", dev_stacks)
    path = dev_stacks / "Pulumi.fraud-dev.yaml"
    path.write_text(path.read_text() + "  ml-platform:platformStack: vision-dev\n")
    result = mlp("plan", "--all", "--stacks-dir", dev_stacks)
    assert result.returncode == 2
    assert ("platformStack 'vision-dev' is a team stack (Pulumi.vision-dev.yaml); it must name a platform stack"
            in result.stdout.replace("\n", ""))


# -- item 11: refused combinations, wrong directories, skipped files --------------------------------

def test_config_or_env_with_stack_is_refused(mlp):
    for extra in (["--env", "dev"], ["--config", STACKS / "Pulumi.fraud-dev.yaml"]):
        result = mlp("plan", "--stack", "fraud-dev", *extra)
        assert result.returncode == 2
        assert result.stderr.startswith("--env and --config apply to --program only")


def test_stacks_with_a_wrong_directory_exits_2_saying_where_it_looked(mlp, tmp_path):
    missing = tmp_path / "nope"
    result = mlp("stacks", "--stacks-dir", missing)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"no stacks directory {missing}")
    result = mlp("stacks", "--stacks-dir", tmp_path)
    assert result.returncode == 2 and result.stderr.startswith(f"no stack files (Pulumi.<stack>.yaml) in {tmp_path}")


def test_a_yml_stack_file_is_skipped_with_a_warning(mlp, dev_stacks):
    shutil.copy(STACKS / "Pulumi.vision-dev.yaml", dev_stacks / "Pulumi.vision-dev.yml")
    result = mlp("stacks", "--stacks-dir", dev_stacks)
    assert result.returncode == 0 and result.stdout.split() == ["platform-dev", "fraud-dev"]
    assert f"warning {dev_stacks}/Pulumi.vision-dev.yml is skipped: stack files are named Pulumi.<stack>.yaml" \
        in result.stderr.replace("\n", "")


# -- .ci/deploy (item 15) ---------------------------------------------------------------------------------

def test_ci_deploy_checks_for_the_pulumi_cli_before_anything(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "env"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = subprocess.run([str(bin_dir / "bash"), str(ROOT / ".ci/deploy"), "dev"], capture_output=True,
                            text=True, env={"PATH": str(bin_dir)}, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("the Pulumi CLI is not on PATH")


def test_ci_deploy_defaults_to_preview():
    script = (ROOT / ".ci/deploy").read_text()
    assert 'action="${2:-preview}"' in script
    workflow = (ROOT / ".github/workflows/deploy-environment.yml").read_text()
    assert ".ci/deploy ${{ inputs.environment }} up" in workflow  # the deploy workflow asks for up
