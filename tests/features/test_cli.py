"""`mlp features` end to end on the example stack fraud-dev (local backend for real; the sagemaker
backend's names from a plan's outputs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from typer.testing import CliRunner

from platform_lib.cli.app import app

HEADER = "card_id,event_time,amount,merchant_category,count_24h,amount_24h\n"


@pytest.fixture(autouse=True)
def no_aws(monkeypatch, tmp_path):
    """No credentials and no endpoint: the local backend is the default."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "MLP_FEATURES_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def mlp(*args: str):
    return CliRunner().invoke(app, ["features", *args])


def recent(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_list_names_groups_and_the_local_directory(tmp_path):
    result = mlp("list", "--stack", "fraud-dev", "--data-dir", str(tmp_path / "store"))
    assert result.exit_code == 0, result.output
    assert "transactions: 6 features, id card_id, event time event_time; online (ttl 30 days), offline" in result.stdout
    assert "customer-profile: 6 features, id customer_id, event time updated_at; online, offline" in result.stdout
    assert f"backend: local store in {tmp_path / 'store'}" in result.stderr


def test_ingest_get_and_dataset_on_the_local_store(tmp_path):
    store = str(tmp_path / "store")
    rows = tmp_path / "tx.csv"
    rows.write_text(HEADER + f"c1,{recent(30)},12.5,5411,1,12.5\nc1,{recent(2)},40,5411,2,52.5\n"
                             f"c2,{recent(10)},3,5812,1,3\nc1,{recent(20)},99,5999,9,99\n")
    result = mlp("ingest", str(rows), "--stack", "fraud-dev", "--group", "transactions", "--data-dir", store)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "transactions: 4 of 4 rows stored"
    result = mlp("get", "c1", "c9", "--stack", "fraud-dev", "-g", "transactions", "-f", "amount", "-f",
                 "count_24h", "--data-dir", store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"c1": {"amount": 40.0, "count_24h": 2}, "c9": None}
    labels = tmp_path / "labels.csv"
    labels.write_text(f"card_id,event_time,is_fraud\nc1,{recent(15)},1\nc2,{recent(15)},0\n")
    out = tmp_path / "train.parquet"
    result = mlp("dataset", "--stack", "fraud-dev", "-g", "transactions", "--labels", str(labels), "--out", str(out),
                 "--data-dir", store)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{out}: 2 label rows, 1 with features at or before their time"
    assert duckdb.execute(f"SELECT card_id, amount FROM read_parquet('{out}')").fetchall() == [
        ("c1", 99.0), ("c2", None)]


def test_bad_file_is_refused_naming_row_and_column(tmp_path):
    store = str(tmp_path / "store")
    rows = tmp_path / "tx.csv"
    rows.write_text(HEADER + f"c1,{recent(1)},12.5,5411,1,12.5\nc2,{recent(1)},cheap,5411,1,2\n")
    result = mlp("ingest", str(rows), "--stack", "fraud-dev", "--group", "transactions", "--data-dir", store)
    assert result.exit_code == 2
    assert "row 2, column 'amount': 'cheap' is not Fractional (a finite number)" in result.stderr
    assert "nothing was written" in result.stderr
    result = mlp("get", "c1", "--stack", "fraud-dev", "-g", "transactions", "--data-dir", store)
    assert json.loads(result.stdout) == {"c1": None}


def test_unknown_group_and_platform_stack_are_refused(tmp_path):
    result = mlp("get", "c1", "--stack", "fraud-dev", "-g", "cards", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "unknown feature group 'cards'; declared: transactions, customer-profile" in result.stderr
    result = mlp("list", "--stack", "platform-dev", "--data-dir", str(tmp_path))
    assert result.exit_code == 2 and "feature groups belong to team stacks" in result.stderr


def test_sagemaker_backend_takes_names_from_the_stack_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")   # configured endpoint: sagemaker by default
    outputs = {
        "kind": "team", "team": "fraud", "environment": "dev", "accountId": "111111111111",
        "primaryRegion": "eu-west-1", "buckets": {"features": "fraud-dev-features-111111111111-euw1"},
        "modelsBuckets": {}, "keyArns": {}, "executionRoleArn": "arn:aws:iam::111111111111:role/x",
        "logBuckets": {}, "featureGroups": {"transactions": "fraud-dev-transactions"},
        "featureDatabase": "fraud_dev_lake", "athenaWorkgroup": "fraud-dev-analytics",
    }
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"stacks": {"fraud-dev": {"outputs": outputs}}}))
    result = mlp("list", "--stack", "fraud-dev", "--plan", str(plan))
    assert result.exit_code == 0, result.output
    assert "transactions -> fraud-dev-transactions: 6 features" in result.stdout
    assert "backend: SageMaker Feature Store in eu-west-1 (Athena workgroup fraud-dev-analytics)" in result.stderr
    del outputs["featureDatabase"]
    plan.write_text(json.dumps({"stacks": {"fraud-dev": {"outputs": outputs}}}))
    result = mlp("list", "--stack", "fraud-dev", "--plan", str(plan))
    assert result.exit_code == 2 and "name no feature store" in result.stderr
