"""`mlp promote infra`: promotable values move up one environment, per-environment keys stay, the target's
comments and order are kept, and bad input or a non-compliant plan changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from platform_lib.cli.app import app
from platform_lib.config.loader import load_stack_file
from platform_lib.promotion import infra

ROOT = Path(__file__).resolve().parents[2]
TTL_30 = "onlineStore: {enabled: true, ttl: 30d}"
TTL_7 = "onlineStore: {enabled: true, ttl: 7d}"


def mlp(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "platform_lib.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def stage_a_change(stacks: Path) -> None:
    """Staging shortens the transactions' online TTL and has its own owner and query limit."""
    path = stacks / "Pulumi.fraud-staging.yaml"
    text = path.read_text().replace(TTL_30, TTL_7, 1)
    text = text.replace("owners: [fraud-ml@example.com]", "owners: [fraud-staging@example.com]")
    path.write_text(text.replace("    groups:\n", "    queryLimitGb: 20\n    groups:\n", 1))


def test_dry_run_prints_the_diff_and_writes_nothing(stacks):
    stage_a_change(stacks)
    before = (stacks / "Pulumi.fraud-prod.yaml").read_text()
    result = mlp("promote", "infra", "--from", "fraud-staging", "--to", "fraud-prod", "--stacks-dir", stacks,
                 "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "~ features.groups[transactions].onlineStore.ttl (changed)" in result.stdout
    assert f"-        {TTL_30}\n+        {TTL_7}" in result.stdout
    assert "owners" not in result.stdout and "queryLimitGb" not in result.stdout  # per-environment keys
    assert (stacks / "Pulumi.fraud-prod.yaml").read_text() == before


def test_promotion_writes_only_the_promotable_change_keeping_comments_and_order(stacks):
    stage_a_change(stacks)
    before = (stacks / "Pulumi.fraud-prod.yaml").read_text()
    result = mlp("promote", "infra", "--from", "fraud-staging", "--to", "fraud-prod", "--stacks-dir", stacks)
    assert result.returncode == 0, result.stderr
    after = (stacks / "Pulumi.fraud-prod.yaml").read_text()
    assert after == before.replace(TTL_30, TTL_7, 1)  # comments, accountId, owners, storage, queryLimitGb kept
    again = mlp("promote", "infra", "--from", "fraud-staging", "--to", "fraud-prod", "--stacks-dir", stacks)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert (stacks / "Pulumi.fraud-prod.yaml").read_text() == after


def test_per_environment_keys_come_from_the_schema():
    from platform_lib.config.schema import NetworkConfig, StackBase, StorageConfig
    from platform_lib.config.schema.base import per_environment

    assert per_environment(StackBase.model_fields["account_id"])
    assert per_environment(NetworkConfig.model_fields["cidrs"])
    assert per_environment(StorageConfig.model_fields["raw_archive_after_days"])
    assert not per_environment(StackBase.model_fields["cost_center"])


@pytest.mark.parametrize(("source", "target", "cause"), [
    ("fraud-qa", "fraud-prod", "unknown stack 'fraud-qa'"),
    ("vision-dev", "fraud-prod", "belongs to team 'vision' and fraud-prod to team 'fraud'"),
    ("fraud-prod", "fraud-staging", "fraud-staging (staging) is not a higher environment than fraud-prod (prod)"),
    ("fraud-staging", "fraud-staging", "--from and --to are both 'fraud-staging'"),
    ("platform-staging", "fraud-prod", "platform-staging is a platform stack and fraud-prod a team stack"),
])
def test_bad_input_exits_2_naming_the_cause_and_changes_nothing(stacks, source, target, cause):
    stage_a_change(stacks)
    files = {p: p.read_text() for p in stacks.iterdir()}
    result = mlp("promote", "infra", "--from", source, "--to", target, "--stacks-dir", stacks)
    assert result.returncode == 2
    assert cause in " ".join(result.stderr.split())
    assert {p: p.read_text() for p in stacks.iterdir()} == files


def test_a_target_plan_with_mandatory_violations_is_refused_and_nothing_written(stacks, monkeypatch):
    """The gate itself: the real plan of the promoted target, with one mandatory violation added to it."""
    from platform_lib.plan.policy_run import Violation

    stage_a_change(stacks)
    real_plan_with = infra.plan_with

    def plan_with_violation(*args, **kwargs):
        plan = real_plan_with(*args, **kwargs)
        assert not plan.error and not plan.mandatory  # the promoted example itself is compliant
        plan.violations.append(Violation("s3-bucket-kms-encryption", "mandatory", "high", "SC-28", "urn:x", "raw",
                                         "aws:s3/bucketV2:BucketV2", "bucket raw is not encrypted"))
        return plan

    monkeypatch.setattr(infra, "plan_with", plan_with_violation)
    before = (stacks / "Pulumi.fraud-prod.yaml").read_text()
    result = CliRunner().invoke(app, ["promote", "infra", "--from", "fraud-staging", "--to", "fraud-prod",
                                      "--stacks-dir", str(stacks)])
    assert result.exit_code == 1, result.output
    assert "1 mandatory violation(s); nothing written" in " ".join(result.output.split())
    assert (stacks / "Pulumi.fraud-prod.yaml").read_text() == before


def test_per_environment_keys_inside_list_items_stay_the_targets(stacks):
    """A served model's image moves up; its artifact key (the environment's own bucket: `mlp promote model`
    moves it), capacity, instance type, rollout and capture stay the target's. A model new in the source
    arrives whole, its per-environment keys listed for review."""
    path = stacks / "Pulumi.fraud-staging.yaml"
    text = path.read_text().replace("fraud/serving:1.4.0", "fraud/serving:1.5.0")
    text = text.replace("modelData: scorer/3/model.tar.gz", "modelData: promoted/fraud-staging-scorer/x/model.tar.gz")
    text = text.replace("maxCapacity: 1\n", "maxCapacity: 3\n        rollout: {strategy: all-at-once}\n"
                        "        dataCapturePercent: 5\n"
                        "      - name: ranker\n        image: fraud/ranker:0.2.0\n"
                        "        modelData: ranker/1/model.tar.gz\n        instanceType: ml.m5.large\n"
                        "        maxCapacity: 2\n        driftFeatures: [amount]\n")
    path.write_text(text)
    src, dst = infra.load_pair(stacks, "fraud-staging", "fraud-prod")
    changes = [c for c in infra.promotable_changes(src, dst) if c.key.startswith("serving")]
    ranker = {"name": "ranker", "image": "fraud/ranker:0.2.0", "modelData": "ranker/1/model.tar.gz",
              "instanceType": "ml.m5.large", "maxCapacity": 2, "driftFeatures": ["amount"]}
    assert [(c.key, c.target, c.source, c.review) for c in changes] == [
        ("serving.models[scorer].image", "fraud/serving:1.4.0", "fraud/serving:1.5.0", ()),
        ("serving.models[ranker]", None, ranker, ("modelData", "instanceType", "maxCapacity", "driftFeatures")),
    ]
    before = (stacks / "Pulumi.fraud-prod.yaml").read_text()
    after = infra.apply(dst.path, changes)
    scorer = ("      - name: scorer\n        image: fraud/serving:1.5.0\n        modelData: scorer/3/model.tar.gz\n"
              "        instanceType: ml.m5.large\n        maxCapacity: 6\n        autoscaling: {target: 200}\n"
              "        batchSchedule: cron(0 2 * * ? *)\n")
    assert scorer in after and "hostedZone: {name: ml.example.com, id: Z0EXAMPLE0FRAUD1}" in after
    assert after.endswith("      - name: ranker\n        image: fraud/ranker:0.2.0\n"
                          "        modelData: ranker/1/model.tar.gz\n        instanceType: ml.m5.large\n"
                          "        maxCapacity: 2\n        driftFeatures: [amount]\n")
    assert before.count("# ") == after.count("# ")  # the target's comments are kept
    (stacks / "Pulumi.fraud-prod.yaml").write_text(after)
    promoted = load_stack_file(stacks / "Pulumi.fraud-prod.yaml").config.served  # type: ignore[union-attr]
    new = promoted.model("ranker")  # prod's environment defaults, not staging's overrides
    assert (new.min_capacity, new.release.strategy, new.capture_percent) == (2, "canary", 20)


def test_an_item_the_source_dropped_is_removed_from_the_target(stacks):
    path = stacks / "Pulumi.fraud-staging.yaml"
    text = path.read_text()
    start = text.index("      - name: customer-profile")
    end = text.index("  ml-platform:modelRegistry")
    path.write_text(text[:start] + text[end:])
    src, dst = infra.load_pair(stacks, "fraud-staging", "fraud-prod")
    changes = [c for c in infra.promotable_changes(src, dst) if c.key.startswith("features")]
    assert [(c.key, c.source) for c in changes] == [("features.groups[customer-profile]", None)]
    after = infra.apply(dst.path, changes)
    assert "customer-profile" not in after and "name: transactions" in after and "queryLimitGb: 500" in after


def test_served_model_capacity_is_marked_per_environment_in_the_schema():
    from platform_lib.config.schema.base import per_environment
    from platform_lib.config.schema.serving import ServedModel, ServingConfig

    marked = {name for name, field in ServedModel.model_fields.items() if per_environment(field)}
    assert marked == {"model_data", "regions", "instance_type", "resources", "min_capacity", "max_capacity",
                      "autoscaling", "rollout", "data_capture_percent", "batch_schedule", "drift_features",
                      "drift_threshold"}
    assert per_environment(ServingConfig.model_fields["hosted_zone"])
    assert not per_environment(ServedModel.model_fields["image"])


def test_dry_run_lists_the_per_environment_values_a_new_item_brings(stacks):
    path = stacks / "Pulumi.fraud-staging.yaml"
    path.write_text(path.read_text().replace(
        "maxCapacity: 1\n", "maxCapacity: 1\n      - name: ranker\n        image: fraud/ranker:0.2.0\n"
        "        modelData: ranker/1/model.tar.gz\n        instanceType: ml.t2.medium\n        maxCapacity: 1\n"))
    result = CliRunner().invoke(app, ["promote", "infra", "--from", "fraud-staging", "--to", "fraud-prod",
                                      "--stacks-dir", str(stacks), "--dry-run"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "~ serving.models[ranker] (added) per-environment values of fraud-staging carried with this new item, " \
           "review them for fraud-prod: modelData, instanceType, maxCapacity" in output


def test_a_new_item_lands_where_the_source_has_it(stacks):
    """A feature added between two others in staging is added between the same two in prod."""
    path = stacks / "Pulumi.fraud-staging.yaml"
    amount = "          - {name: amount, type: Fractional, description: Amount in EUR}\n"
    currency = "          - {name: currency, type: String, description: ISO 4217 code}\n"
    assert amount in path.read_text()
    path.write_text(path.read_text().replace(amount, amount + currency, 1))
    src, dst = infra.load_pair(stacks, "fraud-staging", "fraud-prod")
    changes = [c for c in infra.promotable_changes(src, dst) if c.key.startswith("features")]
    assert [(c.key, c.after) for c in changes] == [("features.groups[transactions].features[currency]", "amount")]
    after = infra.apply(dst.path, changes)
    assert amount + currency + "          - {name: merchant_category" in after


def test_a_section_new_inside_an_existing_item_is_carried_key_by_key(stacks):
    """Issue 14: staging declares the scorer's retraining, which prod's scorer lacks: its promotable keys land in a
    new `retraining:` mapping of that item (the per-environment `schedule`/`instanceType` stay the target's)."""
    path = stacks / "Pulumi.fraud-prod.yaml"
    text = path.read_text()
    start = text.index("        # Retrained on new data")
    path.write_text(text[:start] + text[text.index("  # Served on SageMaker in both serving regions"):])
    src, dst = (load_stack_file(stacks / f"Pulumi.{name}.yaml") for name in ("fraud-staging", "fraud-prod"))
    changes = [c for c in infra.promotable_changes(src, dst) if c.key.startswith("modelRegistry")]
    assert {c.key for c in changes} >= {"modelRegistry.models[scorer].retraining.featureGroup",
                                       "modelRegistry.models[scorer].retraining.onNewData"}
    path.write_text(infra.apply(dst.path, changes))
    promoted = load_stack_file(path).config.model_registry.model("scorer").retraining  # type: ignore[union-attr]
    assert promoted is not None and promoted.feature_group == "transactions" and promoted.on_new_data
    assert promoted.new_data_marker == "_READY" and promoted.data_prefix == "labels/scorer/"
