"""Training channels built from the feature store (`mlp train --channel NAME=features:GROUP@LABELS`):
for real on the local backend (ingest, point-in-time training set, upload, train), and the SageMaker
backend's Athena path with botocore's Stubber (moto implements neither the feature-store runtime nor
Athena query results)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from platform_lib import channels, outputs
from platform_lib.cli.app import app
from platform_lib.config.loader import load_stack_file
from platform_lib.features.client import FeatureClient
from platform_lib.features.local import LocalBackend
from platform_lib.features.sagemaker import SageMakerBackend, SageMakerTargets
from training.examples.fraud import transactions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fraud_data(tmp_path_factory) -> dict[str, Path]:
    return transactions.write(tmp_path_factory.mktemp("fraud"), cards=60)


def declared():
    return load_stack_file(ROOT / "stacks" / "Pulumi.fraud-dev.yaml").config.features   # type: ignore[union-attr]


@pytest.fixture
def store(tmp_path, fraud_data) -> FeatureClient:
    client = FeatureClient(declared(), LocalBackend(tmp_path / "features"))
    assert client.ingest("transactions", fraud_data["features"]).ok
    return client


def _objects(team, prefix: str = "datasets/") -> dict[str, bytes]:
    s3 = team.aws.client("s3")
    bucket = team.outputs.buckets["curated"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_parse_a_feature_channel():
    assert channels.FeatureChannel.parse("features:transactions@labels/train.csv") == \
        channels.FeatureChannel("transactions", Path("labels/train.csv"))
    assert channels.FeatureChannel.parse("s3://bucket/prefix/") is None
    with pytest.raises(outputs.OutputsError, match="expected features:GROUP@LABELS"):
        channels.FeatureChannel.parse("features:transactions")


def test_channels_are_point_in_time_training_sets_uploaded_under_the_data_key(team, store, fraud_data, tmp_path):
    late = tmp_path / "late.csv"   # a record of card-00000 stored after the label time must not be used
    first = next(csv.DictReader(fraud_data["features"].open()))
    late.write_text("card_id,event_time,amount,merchant_category,count_24h,amount_24h\n"
                    f"{first['card_id']},2026-12-31T00:00:00Z,99999.0,5411,1,99999.0\n")
    assert store.ingest("transactions", late).ok
    said: list[str] = []
    uris = channels.from_features(team.aws.client("s3"), team.outputs, "scorer", store, {
        "train": channels.FeatureChannel("transactions", fraud_data["train"]),
        "validation": channels.FeatureChannel("transactions", fraud_data["validation"])}, said.append)
    bucket = team.outputs.buckets["curated"]
    assert set(uris) == {"train", "validation"}
    assert uris["train"].startswith(f"s3://{bucket}/datasets/scorer/") and uris["train"].endswith("/train/")
    objects = _objects(team)
    assert sorted(k.rsplit("/", 2)[-2:][0] + "/" + k.rsplit("/", 1)[-1] for k in objects) == [
        "train/transactions.csv", "validation/transactions.csv"]
    key = next(k for k in objects if "/train/" in k)
    head = team.aws.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == \
        team.outputs.key_arns["data"]["eu-west-1"]
    rows = list(csv.DictReader(io.StringIO(objects[key].decode())))
    labels = list(csv.DictReader(fraud_data["train"].open()))
    features = {(r["card_id"], r["event_time"]): r for r in csv.DictReader(fraud_data["features"].open())}
    assert len(rows) == len(labels) and list(rows[0]) == [
        "card_id", "event_time", "is_fraud", "amount", "merchant_category", "count_24h", "amount_24h",
        "feature_event_time"]
    for row in rows:   # each label event joined with the record of its own time, never the later one
        source = features[(row["card_id"], row["event_time"])]
        assert float(row["amount"]) == float(source["amount"])
        assert row["feature_event_time"] == source["event_time"].replace("Z", ".000Z")   # the store's format
    assert said[0].startswith(f"channel train: {len(labels)} label rows of {fraud_data['train']}, {len(labels)} with")
    # The same training set is the same content: found at the same prefix, not uploaded twice.
    again = channels.from_features(team.aws.client("s3"), team.outputs, "scorer", store, {
        "train": channels.FeatureChannel("transactions", fraud_data["train"]),
        "validation": channels.FeatureChannel("transactions", fraud_data["validation"])}, said.append)
    assert again == uris and len(_objects(team)) == 2


def test_labels_that_do_not_fit_the_group_upload_nothing(team, store, tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("card,event_time,is_fraud\ncard-00001,2026-10-02T00:00:00Z,1\n")
    with pytest.raises(outputs.OutputsError, match="(?s)channel train .*column .card_id. is missing"):
        channels.from_features(team.aws.client("s3"), team.outputs, "scorer", store,
                               {"train": channels.FeatureChannel("transactions", bad)})
    with pytest.raises(outputs.OutputsError, match="(?s)channel train .*unknown-group"):
        channels.from_features(team.aws.client("s3"), team.outputs, "scorer", store,
                               {"train": channels.FeatureChannel("unknown-group", bad)})
    assert _objects(team) == {}


def test_a_store_with_nothing_before_the_labels_is_refused(team, fraud_data, tmp_path):
    empty = FeatureClient(declared(), LocalBackend(tmp_path / "empty"))
    with pytest.raises(outputs.OutputsError, match="none of the .* label rows .* has transactions features at or "
                                                   "before its time .*ingest them first"):
        channels.from_features(team.aws.client("s3"), team.outputs, "scorer", empty,
                               {"train": channels.FeatureChannel("transactions", fraud_data["train"])})
    assert _objects(team) == {}


def test_the_sagemaker_backend_builds_the_channel_with_athena(team, tmp_path):
    """The store's requests against the real service models (Stubber); the upload into moto's S3."""
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
    group = "fraud-dev-transactions"
    targets = SageMakerTargets("eu-west-1", {"transactions": group}, "fraud_dev", "fraud-dev-analytics",
                               team.outputs.buckets["features"])
    backend = SageMakerBackend(targets, session=session, sleep=lambda _: None, workers=1)
    stubs = {s: Stubber(backend.client(s)) for s in ("sagemaker", "athena", "s3")}
    stubs["sagemaker"].add_response("describe_feature_group", {
        "FeatureGroupArn": f"arn:aws:sagemaker:eu-west-1:111111111111:feature-group/{group}",
        "FeatureGroupName": group, "RecordIdentifierFeatureName": "card_id", "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [{"FeatureName": "card_id", "FeatureType": "String"}],
        "CreationTime": "2026-01-01T00:00:00Z", "NextToken": "",
        "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p"}, "TableFormat": "Iceberg",
                               "DataCatalogConfig": {"TableName": "fraud_dev_transactions_1",
                                                     "Catalog": "AwsDataCatalog", "Database": "fraud_dev"}}},
        {"FeatureGroupName": group})
    stubs["s3"].add_response("put_object", {}, {"Bucket": targets.staging_bucket, "Key": ANY, "Body": ANY})
    results = "s3://fraud-dev-athena/results/q-select.csv"
    for query, output in (("q-create", None), ("q-select", results), ("q-drop", None)):
        stubs["athena"].add_response("start_query_execution", {"QueryExecutionId": query}, {
            "QueryString": ANY, "WorkGroup": "fraud-dev-analytics",
            "QueryExecutionContext": {"Database": "fraud_dev", "Catalog": "AwsDataCatalog"}})
        execution = {"QueryExecutionId": query, "Status": {"State": "SUCCEEDED"}}
        if output:
            execution["ResultConfiguration"] = {"OutputLocation": output}
        stubs["athena"].add_response("get_query_execution", {"QueryExecution": execution}, {"QueryExecutionId": query})
    stubs["s3"].add_response("delete_object", {}, {"Bucket": targets.staging_bucket, "Key": ANY})
    result = (b'"card_id","event_time","is_fraud","amount","merchant_category","count_24h","amount_24h",'
              b'"feature_event_time"\n"card-1","2026-10-02T00:00:00Z","1","250.0","5411","4","700.0",'
              b'"2026-10-02T00:00:00Z"\n')
    stubs["s3"].add_response("get_object", {"Body": StreamingBody(io.BytesIO(result), len(result))},
                             {"Bucket": "fraud-dev-athena", "Key": "results/q-select.csv"})
    for stub in stubs.values():
        stub.activate()
    labels = tmp_path / "labels.csv"
    labels.write_text("card_id,event_time,is_fraud\ncard-1,2026-10-02T00:00:00Z,1\n")
    uris = channels.from_features(team.aws.client("s3"), team.outputs, "scorer", FeatureClient(declared(), backend),
                                  {"train": channels.FeatureChannel("transactions", labels)}, lambda _: None)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    (key, body), = _objects(team).items()
    assert uris == {"train": f"s3://{team.outputs.buckets['curated']}/{key.rsplit('/', 2)[0]}/train/"}
    assert body.decode().splitlines() == [
        "card_id,event_time,is_fraud,amount,merchant_category,count_24h,amount_24h,feature_event_time",
        "card-1,2026-10-02T00:00:00Z,1,250.0,5411,4,700.0,2026-10-02T00:00:00Z"]


@pytest.fixture
def mlp(team, tmp_path, monkeypatch):
    monkeypatch.setenv("MLP_STATE_DIR", str(tmp_path / "state"))

    def run(*args: str):
        result = CliRunner().invoke(app, [*args, "--plan", str(team.plan)])
        return result.exit_code, result.output
    return run


def test_mlp_train_refuses_a_bad_feature_channel_before_uploading(mlp, team, store, tmp_path):
    code, out = mlp("train", "-s", "fraud-dev", "-m", "scorer", "--channel", "train=features:transactions",
                    "--features-backend", "local", "--features-dir", str(tmp_path / "features"))
    assert code == 2 and "expected features:GROUP@LABELS" in out
    code, out = mlp("train", "-s", "fraud-dev", "-m", "scorer", "--channel",
                    f"train=features:transactions@{tmp_path / 'missing.csv'}", "--features-backend", "local",
                    "--features-dir", str(tmp_path / "features"))
    assert code == 2 and "missing.csv: no such file" in out
    assert _objects(team) == {}


@pytest.mark.slow
def test_mlp_train_from_the_feature_store(mlp, team, store, fraud_data, tmp_path):
    code, out = mlp("train", "-s", "fraud-dev", "-m", "scorer",
                    "--channel", f"train=features:transactions@{fraud_data['train']}",
                    "--channel", f"validation=features:transactions@{fraud_data['validation']}",
                    "--features-backend", "local", "--features-dir", str(tmp_path / "features"),
                    "--source", str(ROOT / "training" / "examples"), "--entry-point", "fraud",
                    "--hp", "epochs=3", "--job-name", "scorer-features", "--json")
    assert code == 0, out
    run = json.loads(out[out.index("{\n"):])
    assert run["status"] == "Completed" and run["metrics"]["validation_accuracy"] > 0.8
    bucket = team.outputs.buckets["curated"]
    assert run["channels"]["train"].startswith(f"s3://{bucket}/datasets/scorer/")
    assert "backend: local store in" in out and "channel train:" in out


def test_mlp_train_refuses_an_entry_point_that_is_neither_script_nor_package(mlp, team, fraud_data):
    code, out = mlp("train", "-s", "fraud-dev", "-m", "scorer", "--channel", "train=s3://bucket/train/",
                    "--source", str(ROOT / "training" / "examples"), "--entry-point", "nope")
    assert code == 2 and "--entry-point nope is neither a file in" in out
