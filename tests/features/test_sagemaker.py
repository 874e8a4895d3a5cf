"""The SageMaker backend's requests, validated against botocore's real service models (Stubber):
moto implements neither the feature store runtime nor Athena's query results."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from platform_lib.config.schema.features import FeaturesConfig
from platform_lib.features.client import FailedRow, FeatureClient
from platform_lib.features.sagemaker import FeatureStoreError, SageMakerBackend, SageMakerTargets, point_in_time_query
from platform_lib.features.table import FeatureInputError

GROUP = "fraud-dev-transactions"
TARGETS = SageMakerTargets(
    region="eu-west-1", feature_groups={"transactions": GROUP, "customers": "fraud-dev-customers"},
    database="fraud_dev", workgroup="fraud-dev", staging_bucket="fraud-dev-features-111111111111-euw1")
WRITTEN: dict[str, list] = {"Errors": [], "UnprocessedEntries": []}


class Stubs:
    def __init__(self) -> None:
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
        self.sleeps: list[float] = []
        # One worker: the Stubber answers in queue order, which parallel batches would not keep.
        self.backend = SageMakerBackend(TARGETS, session=session, sleep=self.sleeps.append, workers=1)
        self.stubbers = {service: Stubber(self.backend.client(service))
                         for service in ("sagemaker-featurestore-runtime", "athena", "s3", "sagemaker")}
        for stubber in self.stubbers.values():
            stubber.activate()

    def __getitem__(self, service: str) -> Stubber:
        return self.stubbers[service]

    def done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    stubs = Stubs()
    yield stubs
    stubs.done()


@pytest.fixture
def client(declarations: FeaturesConfig, stubs: Stubs) -> FeatureClient:
    return FeatureClient(declarations, stubs.backend)


def record(card: str, hour: int, amount: float, merchants: list[str] | None = None) -> dict:
    return {"card_id": card, "event_time": f"2026-01-01T{hour:02d}:00:00Z", "amount": amount, "count_24h": hour,
            "merchants": merchants}


def entry(card: str, hour: int, amount: float, merchants: list[str] | None = None) -> dict:
    values: list[dict[str, Any]] = [{"FeatureName": "card_id", "ValueAsString": card},
              {"FeatureName": "event_time", "ValueAsString": f"2026-01-01T{hour:02d}:00:00Z"},
              {"FeatureName": "amount", "ValueAsString": repr(amount)},
              {"FeatureName": "count_24h", "ValueAsString": str(hour)}]
    if merchants is not None:
        values.append({"FeatureName": "merchants", "ValueAsStringList": merchants})
    return {"FeatureGroupName": GROUP, "Record": values}


def test_ingest_writes_batches_of_25_with_typed_values(client, stubs):
    rows = [record(f"c{i}", i % 24, i + 0.5, ["m1", "m2"] if i % 2 else None) for i in range(30)]
    entries = [entry(f"c{i}", i % 24, i + 0.5, ["m1", "m2"] if i % 2 else None) for i in range(30)]
    runtime = stubs["sagemaker-featurestore-runtime"]
    runtime.add_response("batch_write_record", WRITTEN, {"Entries": entries[:25]})
    runtime.add_response("batch_write_record", WRITTEN, {"Entries": entries[25:]})
    progress: list[tuple[int, int]] = []
    report = FeatureClient(client.declarations, stubs.backend).ingest(
        "transactions", rows, progress=lambda d, t: progress.append((d, t)))
    assert report.ok and (report.rows, report.stored) == (30, 30)
    assert progress == [(25, 30), (30, 30)]


def test_a_partially_failed_batch_names_exactly_the_rows_not_stored(client, stubs):
    rows = [record(f"c{i}", 1, float(i)) for i in range(4)]
    entries = [entry(f"c{i}", 1, float(i)) for i in range(4)]
    runtime = stubs["sagemaker-featurestore-runtime"]
    # Row 2 is refused; rows 3 and 4 are not processed, then row 4 is processed on retry and row 3
    # never is within the bounded attempts.
    runtime.add_response("batch_write_record", {
        "Errors": [{"Entry": entries[1], "ErrorCode": "ValidationError", "ErrorMessage": "bad value"}],
        "UnprocessedEntries": [entries[2], entries[3]]}, {"Entries": entries})
    third_left = {"Errors": [], "UnprocessedEntries": [entries[2]]}
    runtime.add_response("batch_write_record", third_left, {"Entries": entries[2:]})
    runtime.add_response("batch_write_record", third_left, {"Entries": [entries[2]]})
    runtime.add_response("batch_write_record", third_left, {"Entries": [entries[2]]})
    report = client.ingest("transactions", rows)
    assert report.failed == [FailedRow(2, "c1", "ValidationError: bad value"),
                             FailedRow(3, "c2", "not processed after 4 attempts")]
    assert report.stored == 2 and not report.ok
    assert report.summary() == "transactions: 2 of 4 rows stored; 2 not stored: rows 2, 3"
    assert len(stubs.sleeps) == 3   # backoff between attempts, bounded


def test_a_throttled_batch_is_retried_and_a_refused_one_reported(client, stubs):
    runtime = stubs["sagemaker-featurestore-runtime"]
    runtime.add_client_error("batch_write_record", "ThrottlingException", "slow down",
                             expected_params={"Entries": [entry("c1", 1, 1.0)]})
    runtime.add_response("batch_write_record", WRITTEN, {"Entries": [entry("c1", 1, 1.0)]})
    assert client.ingest("transactions", [record("c1", 1, 1.0)]).ok
    runtime.add_client_error("batch_write_record", "AccessForbidden", "no", expected_params={"Entries": ANY})
    report = client.ingest("transactions", [record("c1", 1, 1.0)])
    assert report.failed == [FailedRow(1, "c1", "AccessForbidden: no")]


def test_bad_input_sends_nothing(client, stubs):
    with pytest.raises(FeatureInputError, match="row 2, column 'amount': 'x' is not Fractional"):
        client.ingest("transactions", [record("c1", 1, 1.0), {**record("c2", 1, 1.0), "amount": "x"}])
    # No stubbed response was consumed: the Stubber would fail on any request.


def test_get_and_batch_get_return_typed_latest_records(client, stubs):
    runtime = stubs["sagemaker-featurestore-runtime"]
    runtime.add_response("get_record", {"Record": entry("c1", 5, 2.5, ["a"])["Record"]},
                         {"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "c1"})
    assert client.get("transactions", "c1") == {"card_id": "c1", "event_time": "2026-01-01T05:00:00Z",
                                                "amount": 2.5, "count_24h": 5, "merchants": ["a"]}
    runtime.add_response("get_record", {}, {"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "zz",
                                            "FeatureNames": ["amount"]})
    assert client.get("transactions", "zz", ["amount"]) is None

    ids = [f"c{i}" for i in range(150)]
    runtime.add_response("batch_get_record", {
        "Records": [{"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "c3",
                     "Record": [{"FeatureName": "amount", "ValueAsString": "3.0"}]}],
        "Errors": [],
        "UnprocessedIdentifiers": [{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ["c4"],
                                    "FeatureNames": ["amount"]}],
    }, {"Identifiers": [{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ids[:100],
                         "FeatureNames": ["amount"]}]})
    runtime.add_response("batch_get_record", {
        "Records": [{"FeatureGroupName": GROUP, "RecordIdentifierValueAsString": "c4",
                     "Record": [{"FeatureName": "amount", "ValueAsString": "4.0"}]}], "Errors": [],
        "UnprocessedIdentifiers": [],
    }, {"Identifiers": [{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ["c4"],
                         "FeatureNames": ["amount"]}]})
    runtime.add_response("batch_get_record", {"Records": [], "Errors": [], "UnprocessedIdentifiers": []}, {
        "Identifiers": [{"FeatureGroupName": GROUP, "RecordIdentifiersValueAsString": ids[100:],
                         "FeatureNames": ["amount"]}]})
    assert client.batch_get("transactions", ids, ["amount"]) == {"c3": {"amount": 3.0}, "c4": {"amount": 4.0}}


def test_a_group_the_stack_has_not_deployed(declarations, stubs):
    backend = SageMakerBackend(SageMakerTargets("eu-west-1", {}, "db", "wg", "bucket"), session=boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1"))
    with pytest.raises(FeatureStoreError, match="no feature group 'transactions' .*run pulumi up"):
        FeatureClient(declarations, backend).get("transactions", "c1")


def test_point_in_time_query_never_looks_after_the_label_time(declarations):
    sql = point_in_time_query(declarations.group("transactions"), "event_time", ["card_id", "event_time", "y"],
                              "fraud_dev", "labels_1", {"Database": "fraud_dev", "TableName": "transactions_17"})
    assert ('from_iso8601_timestamp(f."event_time") <= from_iso8601_timestamp(l."event_time")' in sql)
    assert ('ORDER BY from_iso8601_timestamp(f."event_time") DESC, f.api_invocation_time DESC, '
            "f.write_time DESC") in sql
    assert 'FROM labels l JOIN "fraud_dev"."transactions_17" f ON CAST(f."card_id" AS varchar) = l."card_id"' in sql
    assert "CASE WHEN j.deleted_ THEN NULL ELSE j.\"amount\" END" in sql and "j.rank_ = 1" in sql
    fractional = point_in_time_query(declarations.group("customers"), "updated_at", ["customer_id", "updated_at"],
                                     "db", "l", {"Database": "db", "TableName": "t"})
    assert 'from_unixtime(f."updated_at") <= from_unixtime(CAST(l."updated_at" AS double))' in fractional


def athena_round(stubs: Stubs, execution_id: str, states: list[str], output: str | None = None):
    athena = stubs["athena"]
    athena.add_response("start_query_execution", {"QueryExecutionId": execution_id}, {
        "QueryString": ANY, "WorkGroup": "fraud-dev",
        "QueryExecutionContext": {"Database": "fraud_dev", "Catalog": "AwsDataCatalog"}})
    for state in states:
        execution: dict[str, Any] = {"QueryExecutionId": execution_id, "Status": {"State": state}}
        if output:
            execution["ResultConfiguration"] = {"OutputLocation": output}
        athena.add_response("get_query_execution", {"QueryExecution": execution}, {"QueryExecutionId": execution_id})


def test_dataset_stages_labels_queries_athena_and_cleans_up(client, stubs, tmp_path: Path):
    stubs["sagemaker"].add_response("describe_feature_group", {
        "FeatureGroupArn": "arn:aws:sagemaker:eu-west-1:111111111111:feature-group/fraud-dev-transactions",
        "FeatureGroupName": GROUP, "RecordIdentifierFeatureName": "card_id", "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [{"FeatureName": "card_id", "FeatureType": "String"}],
        "CreationTime": "2026-01-01T00:00:00Z", "NextToken": "",
        "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p"}, "TableFormat": "Iceberg",
                               "DataCatalogConfig": {"TableName": "fraud_dev_transactions_1700000000",
                                                     "Catalog": "AwsDataCatalog", "Database": "fraud_dev"}},
    }, {"FeatureGroupName": GROUP})
    s3 = stubs["s3"]
    s3.add_response("put_object", {}, {"Bucket": TARGETS.staging_bucket, "Key": ANY, "Body": ANY})
    athena_round(stubs, "q-create", ["RUNNING", "SUCCEEDED"])
    athena_round(stubs, "q-select", ["QUEUED", "RUNNING", "SUCCEEDED"],
                 output="s3://fraud-dev-athena/results/q-select.csv")
    athena_round(stubs, "q-drop", ["SUCCEEDED"])
    s3.add_response("delete_object", {}, {"Bucket": TARGETS.staging_bucket, "Key": ANY})
    result = (b'"card_id","event_time","y","amount","count_24h","merchants","feature_event_time"\n'
              b'"c1","2026-01-01T03:00:00Z","1","2.5","2","[a]","2026-01-01T02:00:00Z"\n'
              b'"c9","2026-01-01T03:00:00Z","0",,,,\n')
    s3.add_response("get_object", {"Body": StreamingBody(io.BytesIO(result), len(result))},
                    {"Bucket": "fraud-dev-athena", "Key": "results/q-select.csv"})
    labels = [{"card_id": "c1", "event_time": "2026-01-01T03:00:00Z", "y": 1},
              {"card_id": "c9", "event_time": "2026-01-01T03:00:00Z", "y": 0}]
    report = client.dataset("transactions", labels, tmp_path / "train.parquet")
    assert (report.rows, report.matched) == (2, 1)
    assert duckdb.execute(f"SELECT card_id, amount FROM read_parquet('{report.path}')").fetchall() == [
        ("c1", "2.5"), ("c9", None)]
    assert stubs.sleeps == [0.5, 0.5, 1.0]    # polling backs off


def test_a_failed_athena_query_names_the_reason_and_still_cleans_up(client, stubs, tmp_path):
    stubs["sagemaker"].add_response("describe_feature_group", {
        "FeatureGroupArn": "arn:aws:sagemaker:eu-west-1:111111111111:feature-group/x", "FeatureGroupName": GROUP,
        "RecordIdentifierFeatureName": "card_id", "EventTimeFeatureName": "event_time",
        "FeatureDefinitions": [{"FeatureName": "card_id", "FeatureType": "String"}],
        "CreationTime": "2026-01-01T00:00:00Z", "NextToken": "",
        "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": "s3://b/p"},
                               "DataCatalogConfig": {"TableName": "t", "Catalog": "AwsDataCatalog",
                                                     "Database": "fraud_dev"}},
    }, {"FeatureGroupName": GROUP})
    stubs["s3"].add_response("put_object", {}, {"Bucket": TARGETS.staging_bucket, "Key": ANY, "Body": ANY})
    athena = stubs["athena"]
    athena.add_response("start_query_execution", {"QueryExecutionId": "q1"}, {
        "QueryString": ANY, "WorkGroup": "fraud-dev",
        "QueryExecutionContext": {"Database": "fraud_dev", "Catalog": "AwsDataCatalog"}})
    athena.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q1", "Status": {
        "State": "FAILED", "StateChangeReason": "Bytes scanned limit was exceeded"}}}, {"QueryExecutionId": "q1"})
    athena_round(stubs, "q-drop", ["SUCCEEDED"])
    stubs["s3"].add_response("delete_object", {}, {"Bucket": TARGETS.staging_bucket, "Key": ANY})
    with pytest.raises(FeatureStoreError, match="Athena query q1 failed: Bytes scanned limit was exceeded"):
        client.dataset("transactions", [{"card_id": "c1", "event_time": "2026-01-01T03:00:00Z", "y": 1}],
                       tmp_path / "t.csv")


def test_no_client_is_created_before_first_use(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a boto3 client was created")

    monkeypatch.setattr(boto3.Session, "client", refuse)
    backend = SageMakerBackend(TARGETS)
    assert backend.describe().startswith("SageMaker Feature Store in eu-west-1")
