"""The retraining pipeline's Prepare step (``python -m platform_lib.pipeline.prepare``), as SageMaker runs it: the
channels' files, or the point-in-time training set of a feature group built from its offline store's data files,
which must equal the set ``mlp train --channel NAME=features:GROUP@LABELS`` builds from the same records."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from platform_lib import channels
from platform_lib.config.loader import load_stack_file
from platform_lib.features.client import FeatureClient
from platform_lib.features.local import LocalBackend
from platform_lib.pipeline import prepare
from training.examples.fraud import transactions

ROOT = Path(__file__).resolve().parents[2]
NAME = "fraud-dev-transactions"


@pytest.fixture(scope="module")
def declared():
    return load_stack_file(ROOT / "stacks" / "Pulumi.fraud-dev.yaml").config.features  # type: ignore[union-attr]


def arguments(declared) -> list[str]:
    return ["--channel=train", "--channel=validation",
            *prepare.feature_arguments(declared.group("transactions")), f"--offline-store-name={NAME}"]


def offline_store(features: Path, root: Path) -> None:
    """The group's records as SageMaker's offline store holds them (Iceberg data files with its write columns),
    a delete of one card's record, and a decoy group whose name starts with ours."""
    own = root / f"{NAME}-1761955200" / "data" / "event_time_day=2026-10-01"
    decoy = root / f"{NAME}-v2-1761955300" / "data"
    for folder in (own, decoy):
        folder.mkdir(parents=True)
    source = f"read_csv('{features}', header = true, all_varchar = true)"
    written = "TIMESTAMP '2026-11-01 00:00:00'"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT card_id, event_time, CAST(amount AS DOUBLE) AS amount, merchant_category, "
                    f"CAST(count_24h AS BIGINT) AS count_24h, CAST(amount_24h AS DOUBLE) AS amount_24h, "
                    f"{written} AS write_time, {written} AS api_invocation_time, false AS is_deleted "
                    f"FROM {source}) TO '{own / 'part-0.parquet'}' (FORMAT PARQUET)")
        # the latest record of card-00000, deleted: a later write (its deletion) that must not give features
        con.execute(f"COPY (SELECT card_id, '2026-10-11T00:00:00Z' AS event_time, 0.0 AS amount, '0000' AS "
                    f"merchant_category, CAST(0 AS BIGINT) AS count_24h, 0.0 AS amount_24h, "
                    f"TIMESTAMP '2026-11-02 00:00:00' AS write_time, TIMESTAMP '2026-11-02 00:00:00' AS "
                    f"api_invocation_time, true AS is_deleted FROM {source} WHERE card_id = 'card-00000' LIMIT 1) "
                    f"TO '{own / 'part-1.parquet'}' (FORMAT PARQUET)")
        con.execute(f"COPY (SELECT 'card-00000' AS card_id, '2026-10-01T00:00:00Z' AS event_time, 1e9 AS amount) "
                    f"TO '{decoy / 'part-0.parquet'}' (FORMAT PARQUET)")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_prepare_builds_the_clis_training_set_from_the_offline_store(tmp_path, monkeypatch, declared):
    files = transactions.write(tmp_path / "data", cards=40)
    base = tmp_path / "processing"
    for channel in ("train", "validation"):   # two label files per channel, as uploads arrive
        lines = files[channel].read_text().splitlines(keepends=True)
        half = len(lines) // 2
        folder = base / "input" / channel
        folder.mkdir(parents=True)
        (folder / "part-1.csv").write_text("".join(lines[:half]))
        (folder / "part-2.csv").write_text(lines[0] + "".join(lines[half:]))
    offline_store(files["features"], base / "input" / prepare.OFFLINE_INPUT)
    monkeypatch.setenv("SAGEMAKER_PROCESSING_DIR", str(base))
    assert prepare.main(arguments(declared)) == 0

    # the CLI's own training set (mlp train --channel train=features:transactions@labels/train.csv)
    store = FeatureClient(declared, LocalBackend(tmp_path / "store"))
    assert store.ingest("transactions", files["features"]).ok
    expected = channels.training_sets(store, {c: channels.FeatureChannel("transactions", files[c])
                                              for c in ("train", "validation")}, tmp_path / "cli", say=lambda _: None)
    for channel, folder in expected.items():
        built = rows(base / "output" / channel / "transactions.csv")
        assert built == rows(folder / "transactions.csv")
        assert len(built) == len(rows(files[channel])) and built[0]["amount"] != ""
        assert all(r["amount"] != "1000000000.0" for r in built)   # the decoy group's records are not read


def test_prepare_without_a_feature_group_snapshots_the_channels(tmp_path, monkeypatch):
    base = tmp_path / "processing"
    for channel, names in (("train", ["a.csv", "nested/b.csv"]), ("validation", ["c.csv"])):
        for name in names:
            path = base / "input" / channel / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{name}\n")
    monkeypatch.setenv("SAGEMAKER_PROCESSING_DIR", str(base))
    assert prepare.main(["--channel=train", "--channel=validation"]) == 0
    assert (base / "output" / "train" / "nested" / "b.csv").read_text() == "nested/b.csv\n"
    assert sorted(p.name for p in (base / "output").rglob("*.csv")) == ["a.csv", "b.csv", "c.csv"]


@pytest.mark.parametrize(("setup", "reason"), [
    ("empty channel", "no files in"),
    ("different headers", "differs from"),
    ("no offline data", "has no data files"),
    ("labels before every feature", "none of the"),
])
def test_prepare_fails_with_a_reason_and_writes_nothing(tmp_path, monkeypatch, declared, setup, reason):
    files = transactions.write(tmp_path / "data", cards=5)
    base = tmp_path / "processing"
    for channel in ("train", "validation"):
        (base / "input" / channel).mkdir(parents=True)
        if setup != "empty channel" or channel == "validation":
            (base / "input" / channel / "labels.csv").write_text(files[channel].read_text())
    if setup == "different headers":
        (base / "input" / "train" / "more.csv").write_text("card_id,event_time,label\nx,2026-10-01T00:00:00Z,1\n")
    if setup == "labels before every feature":
        for channel in ("train", "validation"):
            (base / "input" / channel / "labels.csv").write_text(
                "card_id,event_time,is_fraud\ncard-00000,2020-01-01T00:00:00Z,0\n")
    if setup != "no offline data":
        offline_store(files["features"], base / "input" / prepare.OFFLINE_INPUT)
    monkeypatch.setenv("SAGEMAKER_PROCESSING_DIR", str(base))
    assert prepare.main(arguments(declared)) == 1
    assert reason in (base / "output" / "failure").read_text()
    assert not (base / "output" / "train").exists()
