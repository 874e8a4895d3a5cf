"""Issue 8: output a CI can diff and annotate (items 12-14), polish (15) and the README's claims (17)."""

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests/plan/programs"
PUBLIC = PROGRAMS / "public_bucket"
DEPLOYMENT_ORDER = ["platform-dev", "platform-prod", "fraud-dev", "fraud-prod", "vision-dev", "vision-prod"]


# -- item 12: deterministic plan JSON --------------------------------------------------------------------

def test_two_runs_write_byte_identical_plans_in_deployment_order(mlp, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    one = mlp("plan", "--all", "--json", first, "--jobs", "2")
    two = mlp("plan", "--all", "--json", second, "--jobs", "1", cwd=ROOT / "stacks")  # another cwd, in-process
    assert one.returncode == two.returncode == 0, one.stdout + one.stderr
    assert first.read_bytes() == second.read_bytes()
    plan = json.loads(first.read_text())
    assert list(plan["stacks"]) == DEPLOYMENT_ORDER and plan["exitCode"] == 0 and plan["error"] is None
    fraud = plan["stacks"]["fraud-dev"]
    assert fraud["source"] == "stacks/Pulumi.fraud-dev.yaml" and "seconds" not in fraud
    urns = [r["urn"] for r in fraud["resources"]]
    assert urns == sorted(urns)
    assert all(r["dependencies"] == sorted(r["dependencies"]) for r in fraud["resources"])
    # progress while planning many stacks (item 15), on stderr
    assert [line.split(":")[0] for line in one.stderr.splitlines()] == [f"planned {i}/6" for i in range(1, 7)]


# -- item 13: --diff ------------------------------------------------------------------------------------

def test_diff_against_a_base_plan_lists_resources_and_violations(mlp, tmp_path):
    base, changes = tmp_path / "base.json", tmp_path / "diff.json"
    assert mlp("plan", "--program", PUBLIC, "--json", base).returncode == 1
    result = mlp("plan", "--program", PROGRAMS / "compliant_bucket", "--diff", base, "--diff-json", changes)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "plan diff" in result.stdout
    diff = json.loads(changes.read_text())
    assert diff["exitCode"] == 0 and list(diff["stacks"]) == ["plan"]
    stack = diff["stacks"]["plan"]
    assert stack["status"] == "compared" and stack["newViolations"] == []
    assert sorted(r["name"] for r in stack["removed"]) == ["scratch", "scratch-public-access"]
    assert "fraud-prod-scratch-encryption" in [r["name"] for r in stack["added"]]
    assert {v["rule"] for v in stack["fixedViolations"]} == {
        "s3-bucket-kms-encryption", "s3-bucket-public-access-blocked", "s3-bucket-tls-only",
        "s3-bucket-versioning-enabled", "prod-stateful-resources-protected", "s3-bucket-access-logging",
        "s3-bucket-acls-disabled", "s3-bucket-lifecycle-configured"}


def test_diff_names_the_changed_inputs_and_options():
    from platform_lib.plan.diff import diff_stack

    def bucket(**inputs):
        return {"urn": "u1", "type": "aws:s3/bucket:Bucket", "name": "raw", "protect": False,
                "inputs": {"bucket": "raw", **inputs}}

    before = {"resources": [bucket(tags={"a": "1"}), {"urn": "u2", "type": "t", "name": "gone", "inputs": {}}],
              "violations": [{"rule": "r1", "urn": "u1", "message": "m"}]}
    after = {"resources": [{**bucket(forceDestroy=True), "protect": True}],
             "violations": [{"rule": "r2", "urn": "u1", "message": "n"}]}
    assert diff_stack(before, after) == {
        "status": "compared", "added": [], "removed": [{"urn": "u2", "type": "t", "name": "gone"}],
        "changed": [{"urn": "u1", "type": "aws:s3/bucket:Bucket", "name": "raw", "inputs": ["forceDestroy", "tags"],
                     "options": ["protect"]}],
        "newViolations": [{"rule": "r2", "urn": "u1", "message": "n"}],
        "fixedViolations": [{"rule": "r1", "urn": "u1", "message": "m"}],
    }


def test_diff_with_a_base_that_is_not_a_plan_is_refused_before_planning(mlp, tmp_path):
    (tmp_path / "base.json").write_text("[1, 2]")
    result = mlp("plan", "--all", "--diff", tmp_path / "base.json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"--diff {tmp_path / 'base.json'}: not a plan JSON")


# -- item 14: SARIF, annotations, JUnit ----------------------------------------------------------------

@pytest.fixture(scope="module")
def public_reports(tmp_path_factory, mlp):
    out = tmp_path_factory.mktemp("reports")
    result = mlp("plan", "--program", PUBLIC, "--sarif", out / "plan.sarif", "--junit", out / "junit.xml",
                     env={"GITHUB_ACTIONS": "true"})
    return result, json.loads((out / "plan.sarif").read_text()), out / "junit.xml"


def test_sarif_puts_each_violation_on_the_line_that_created_the_resource(public_reports):
    result, sarif, _ = public_reports
    assert result.returncode == 1
    assert sarif["version"] == "2.1.0" and sarif["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    [run] = sarif["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    located = {}
    for r in run["results"]:
        assert rules[r["ruleIndex"]] == r["ruleId"]
        [location] = r["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "tests/plan/programs/public_bucket/__main__.py",
                                                "uriBaseId": "%SRCROOT%"}
        located[(r["ruleId"], r["level"])] = physical["region"]["startLine"]
    assert located == {
        ("prod-stateful-resources-protected", "error"): 7, ("s3-bucket-kms-encryption", "error"): 7,
        ("s3-bucket-public-access-blocked", "error"): 9, ("s3-bucket-tls-only", "error"): 7,
        ("s3-bucket-versioning-enabled", "error"): 7, ("s3-bucket-access-logging", "error"): 7,
        ("s3-bucket-acls-disabled", "error"): 7, ("s3-bucket-lifecycle-configured", "error"): 7,
    }
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_github_annotations_when_running_in_github_actions(public_reports):
    result, _, _ = public_reports
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert "::error file=tests/plan/programs/public_bucket/__main__.py,line=9,title=plan%3A " \
           "s3-bucket-public-access-blocked::scratch-public-access: " in "\n".join(annotations)
    assert len(annotations) == 8


def test_junit_report_parses_with_a_suite_per_stack_and_a_case_per_rule(public_reports):
    from junitparser import Failure, JUnitXml

    from policies.pack import RULES

    _, _, path = public_reports
    [suite] = list(JUnitXml.fromfile(str(path)))
    assert (suite.name, suite.tests, suite.failures, suite.errors) == ("plan", 1 + len(RULES), 8, 0)
    failed = sorted(case.name for case in suite if any(isinstance(r, Failure) for r in case.result))
    assert failed == ["prod-stateful-resources-protected", "s3-bucket-access-logging", "s3-bucket-acls-disabled",
                      "s3-bucket-kms-encryption", "s3-bucket-lifecycle-configured",
                      "s3-bucket-public-access-blocked", "s3-bucket-tls-only", "s3-bucket-versioning-enabled"]


# -- item 15: polish ----------------------------------------------------------------------------------------

def test_version_and_completion(mlp):
    from importlib.metadata import version

    result = mlp("--version")
    assert result.returncode == 0 and result.stdout == f"mlp {version('ml-platform-blueprint')}\n"
    assert "--install-completion" in mlp("--help").stdout


def test_help_has_no_odd_placeholders_or_machine_specific_defaults(mlp):
    import os

    text = mlp("plan", "--help", env={"COLUMNS": "80"}).stdout
    assert text.startswith("Usage: mlp plan [OPTIONS]")
    assert "<bool>" not in text and "default: one per core" in text
    assert not re.search(rf"\[default: {os.cpu_count()}\]", text)
    assert "(default: prod)" in text


def test_summary_fits_80_columns_without_cutting_stack_names():
    from platform_lib.plan.report import summary
    from platform_lib.plan.runner import StackPlan

    plans = [StackPlan(stack=name, source="x", kind="platform", environment="staging")
             for name in ("platform-staging", "recommendations-staging-eu-n1")]
    plans[1].error = "invalid config"
    console = Console(width=80, record=True)
    console.print(summary(plans))
    text = console.export_text()
    assert "platform-staging " in text
    assert "…" not in text
    assert text.splitlines()[-1].split() == ["recommendations-staging-eu-n1", "platform", "staging",
                                              "0", "0", "0", "0.00", "invalid"]
    assert max(len(line) for line in text.splitlines()) <= 80


# -- item 17: the README's claims -------------------------------------------------------------------------

def test_readme_examples_exist_and_exit_codes_match():
    from platform_lib.cli import ExitCode

    readme = (ROOT / "README.md").read_text()
    for program in re.findall(r"mlp plan --program (\S+)", readme):
        assert (ROOT / program).exists(), program
    rows = dict(re.findall(r"^\| ([0-9]) \| (.+) \|$", readme, re.M))
    assert set(rows) == {str(int(code)) for code in ExitCode}
    assert rows["1"] == "mandatory policy violations, and nothing else"
    assert "`--env` (default `prod`)" in readme


def test_readme_program_example_runs_as_documented(mlp):
    readme = (ROOT / "README.md").read_text()
    [command] = re.findall(r"mlp (plan --program \S+ --env dev)", readme)
    result = mlp(*command.split())
    assert result.returncode == 1  # the example breaks a rule that stays mandatory in dev
    assert "mandatory s3-bucket-public-access-blocked scratch" in result.stdout
