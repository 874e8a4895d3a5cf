"""The local backend for real: DuckDB and SQLite files under a directory, the same semantics as
SageMaker Feature Store (latest record online, point-in-time training sets offline)."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from platform_lib.config.schema.features import FeaturesConfig
from platform_lib.features.client import FeatureClient, StoreDisabledError, UnknownGroupError
from platform_lib.features.local import LocalBackend
from platform_lib.features.table import FeatureInputError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tx(card: str, hours: float, amount: float, count: int = 1, merchants=None) -> dict:
    return {"card_id": card, "event_time": at(hours), "amount": amount, "count_24h": count,
            "merchants": merchants if merchants is not None else ["m1"]}


@pytest.fixture
def client(declarations: FeaturesConfig, tmp_path: Path) -> FeatureClient:
    return FeatureClient(declarations, LocalBackend(tmp_path / "store"))


def test_data_lives_under_the_chosen_directory(client, tmp_path):
    client.ingest("transactions", [tx("c1", 0, 10.0)])
    assert sorted(p.name for p in (tmp_path / "store").iterdir() if not p.name.endswith((".wal", "-wal", "-shm"))) == [
        "offline.duckdb", "online.sqlite"]
    assert client.backend.describe() == f"local store in {tmp_path / 'store'}"


def test_get_returns_the_latest_record_by_event_time_not_by_arrival(client):
    report = client.ingest("transactions", [tx("c1", 5, 50.0, 5, ["a", "b"]), tx("c1", 1, 10.0), tx("c2", 2, 20.0)])
    assert report.ok and report.stored == 3 and report.summary() == "transactions: 3 of 3 rows stored"
    # An out-of-order event that arrives later but happened earlier never replaces the newer record.
    client.ingest("transactions", [tx("c1", 3, 30.0)])
    assert client.get("transactions", "c1") == {
        "card_id": "c1", "event_time": at(5), "amount": 50.0, "count_24h": 5, "merchants": ["a", "b"]}
    # A newer one does; between records of the same event time the last written wins.
    client.ingest("transactions", [tx("c1", 6, 60.0), tx("c1", 6, 61.0)])
    assert client.get("transactions", "c1", ["amount"]) == {"amount": 61.0}
    assert client.get("transactions", "nope") is None
    assert client.batch_get("transactions", ["c2", "nope", "c1"], ["amount"]) == {
        "c2": {"amount": 20.0}, "c1": {"amount": 61.0}}


def test_expired_records_are_not_served(declarations, tmp_path):
    data = declarations.model_dump(by_alias=True)
    data["groups"][0]["onlineStore"]["ttl"] = "1d"
    client = FeatureClient(FeaturesConfig.model_validate(data), LocalBackend(tmp_path))
    now = datetime.now(UTC)
    fresh = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    client.ingest("transactions", [{**tx("new", 0, 1.0), "event_time": fresh},
                                   {**tx("old", 0, 2.0), "event_time": stale}])
    assert client.get("transactions", "new") is not None
    assert client.get("transactions", "old") is None
    assert set(client.batch_get("transactions", ["new", "old"])) == {"new"}


def test_integral_record_ids_and_fractional_event_times(client, tmp_path):
    client.ingest("customers", [{"customer_id": 7, "updated_at": 100.5, "segment": "gold"},
                                {"customer_id": 7, "updated_at": 200.0, "segment": "platinum"}])
    labels = [{"customer_id": 7, "updated_at": 150, "churned": 0}, {"customer_id": 7, "updated_at": 99, "churned": 1}]
    report = client.dataset("customers", labels, tmp_path / "set.csv")
    rows = list(csv.DictReader(open(report.path)))
    assert [(r["segment"], r["feature_event_time"]) for r in rows] == [("gold", "100.5"), ("", "")]
    with pytest.raises(StoreDisabledError, match="'customers' has no online store"):
        client.get("customers", 7)


@pytest.mark.parametrize("plan", ["hash join", "asof join"])
def test_point_in_time_training_set_never_leaks_the_future(client, tmp_path, plan):
    client.backend.join_fanout = 10_000 if plan == "hash join" else 0
    # Late-arriving events: the 2h event is ingested after the 4h one; labels sit between them.
    client.ingest("transactions", [tx("c1", 4, 40.0), tx("c2", 1, 11.0)])
    client.ingest("transactions", [tx("c1", 2, 20.0), tx("c1", 2, 21.0)])   # same event time: last write wins
    labels = [
        {"card_id": "c1", "event_time": at(3), "is_fraud": 0},      # sees the 2h record (21.0), not 4h
        {"card_id": "c1", "event_time": at(4), "is_fraud": 1},      # exactly at 4h: at or before counts
        {"card_id": "c1", "event_time": at(1), "is_fraud": 0},      # before any record: no features
        {"card_id": "c3", "event_time": at(9), "is_fraud": 0},      # unknown card
        {"card_id": "c2", "event_time": at(99), "is_fraud": 1},
    ]
    report = client.dataset("transactions", labels, tmp_path / "out" / "train.parquet")
    assert (report.rows, report.matched) == (5, 3)
    rows = duckdb.execute(f"SELECT card_id, event_time, is_fraud, amount, feature_event_time FROM "
                      f"read_parquet('{report.path}')").fetchall()
    assert rows == [
        ("c1", at(3), "0", 21.0, "2026-01-01T02:00:00.000Z"),
        ("c1", at(4), "1", 40.0, "2026-01-01T04:00:00.000Z"),
        ("c1", at(1), "0", None, None),
        ("c3", at(9), "0", None, None),
        ("c2", at(99), "1", 11.0, "2026-01-01T01:00:00.000Z"),
    ]


@pytest.mark.parametrize("plan", ["hash join", "asof join"])
def test_training_set_matches_a_brute_force_reference_on_shuffled_data(client, tmp_path, plan):
    client.backend.join_fanout = 10_000 if plan == "hash join" else 0
    rng = random.Random(7)
    records = [tx(f"c{rng.randrange(20)}", rng.randrange(0, 500), float(i)) for i in range(2000)]
    rng.shuffle(records)
    for start in range(0, len(records), 500):   # several ingests, out of order
        client.ingest("transactions", records[start:start + 500])
    labels = [{"card_id": f"c{rng.randrange(22)}", "event_time": at(rng.randrange(-10, 510)), "y": i}
              for i in range(500)]
    path = client.dataset("transactions", labels, tmp_path / "set.csv").path
    got = [(r["y"], r["amount"] or None) for r in csv.DictReader(open(path))]
    expected = []
    for label in labels:
        seen = [(r["event_time"], order, r["amount"]) for order, r in enumerate(records)
                if r["card_id"] == label["card_id"] and r["event_time"] <= label["event_time"]]
        best = max(seen)[2] if seen else None
        expected.append((str(label["y"]), None if best is None else str(best)))
    assert got == expected


def test_bad_input_is_refused_before_anything_is_written(client, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("card_id,event_time,amount,count_24h,merchants\n"
                    'c1,2026-01-01T00:00:00Z,1.5,2,"[""a""]"\n'
                    "c2,2026-01-01T00:00:00Z,lots,2,[]\n"
                    ",2026-01-01T00:00:00Z,1,2.5,[]\n"
                    "c4,yesterday,1,2,[]\n")
    with pytest.raises(FeatureInputError) as info:
        client.ingest("transactions", path)
    assert info.value.problems == [
        "row 2, column 'amount': 'lots' is not Fractional (a finite number)",
        "row 3, column 'card_id': is empty; the record identifier and event time are required",
        "row 3, column 'count_24h': '2.5' is not Integral (a whole number)",
        "row 4, column 'event_time': 'yesterday' is not an ISO-8601 UTC time (yyyy-MM-ddTHH:mm:ssZ or "
        "yyyy-MM-ddTHH:mm:ss.SSSZ)",
    ]
    assert str(path) in str(info.value) and "nothing was written" in str(info.value)
    assert client.get("transactions", "c1") is None                  # the good first row was not stored either
    labels = [{"card_id": "c1", "event_time": at(1), "y": 1}]
    assert client.dataset("transactions", labels, tmp_path / "s.csv").matched == 0


def test_columns_that_do_not_match_the_declaration(client):
    row = tx("c1", 0, 1.0)
    del row["count_24h"]
    with pytest.raises(FeatureInputError) as info:
        client.ingest("transactions", [{**row, "colour": "red"}])
    assert info.value.problems == [
        "column 'count_24h' is missing (declared: card_id, event_time, amount, count_24h, merchants)",
        "column 'colour' is not a feature of 'transactions' (features: card_id, event_time, amount, count_24h, "
        "merchants)",
    ]


def test_unknown_group_and_unknown_feature(client):
    with pytest.raises(UnknownGroupError, match="unknown feature group 'cards'; declared: transactions, customers"):
        client.ingest("cards", [])
    with pytest.raises(ValueError, match="'colour' not features of 'transactions'"):
        client.get("transactions", "c1", ["colour"])


def test_parquet_input_and_progress(client, tmp_path):
    path = tmp_path / "in.parquet"
    duckdb.sql(f"COPY (SELECT 'c' || (i % 100)::VARCHAR AS card_id, strftime(TIMESTAMP '2026-01-01' + "
               f"to_seconds(i), '%Y-%m-%dT%H:%M:%SZ') AS event_time, i * 0.5 AS amount, i AS count_24h, "
               f"['x'] AS merchants FROM range(120000) t(i)) TO '{path}' (FORMAT PARQUET)")
    seen: list[tuple[int, int]] = []
    report = client.ingest("transactions", path, progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.stored == 120000
    assert seen[-1] == (120000, 120000) and seen == sorted(seen)
    assert client.get("transactions", "c7") == {"card_id": "c7", "event_time": "2026-01-02T09:18:27Z",
                                                "amount": 59953.5, "count_24h": 119907, "merchants": ["x"]}


def test_labels_need_the_record_identifier_and_time(client, tmp_path):
    with pytest.raises(FeatureInputError, match="column 'event_time' is missing"):
        client.dataset("transactions", [{"card_id": "c1", "y": 1}], tmp_path / "s.csv")
    with pytest.raises(ValueError, match="label columns amount have the names of features"):
        client.dataset("transactions", [{"card_id": "c1", "event_time": at(1), "amount": 1}], tmp_path / "s.csv")


def test_a_changed_declaration_is_refused_on_an_old_store(declarations, tmp_path):
    FeatureClient(declarations, LocalBackend(tmp_path)).ingest("transactions", [tx("c1", 0, 1.0)])
    data = declarations.model_dump(by_alias=True)
    data["groups"][0]["features"].append({"name": "country", "type": "String"})
    changed = FeatureClient(FeaturesConfig.model_validate(data), LocalBackend(tmp_path))
    with pytest.raises(ValueError, match="the stack now declares"):
        changed.ingest("transactions", [{**tx("c1", 1, 1.0), "country": "FR"}])
