"""Synthetic card transactions for the ``transactions`` feature group, and fraud labels.

``write(out)`` writes ``out/transactions.csv`` (the group's declared columns, to ingest) and
``out/labels/{train,validation}.csv`` (``card_id, event_time, is_fraud``: one label event per
transaction, split at a cut-off day so validation lies after training). Each card spends at its own
pace; ``count_24h`` and ``amount_24h`` are computed from the card's transactions of the previous 24 hours
(the transaction itself included), as a streaming aggregation would. A compromised card, from a random
moment on, spends more and much more often; those transactions are the fraud. Seeded: the same
arguments write byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import deque
from pathlib import Path

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
DAYS, CUTOFF_DAY = 10, 8
CATEGORIES = ("5411", "5812", "5999", "4111", "5732", "7995")
FEATURES = ("card_id", "event_time", "amount", "merchant_category", "count_24h", "amount_24h")
LABELS = ("card_id", "event_time", "is_fraud")


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(cards: int = 300, seed: int = 7) -> list[dict[str, object]]:
    """Every card's transactions, in time order per card, with their rolling aggregates and label."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for index in range(cards):
        card = f"card-{index:05d}"
        per_day = rng.uniform(0.5, 2.5)
        compromised_at = START + dt.timedelta(hours=rng.uniform(24, DAYS * 24)) if rng.random() < 0.3 else None
        window: deque[tuple[dt.datetime, float]] = deque()
        when = START + dt.timedelta(hours=rng.expovariate(per_day / 24))
        while when < START + dt.timedelta(days=DAYS):
            fraud = compromised_at is not None and when >= compromised_at
            amount = round(rng.lognormvariate(5.5 if fraud else 3.5, 0.6), 2)
            window.append((when, amount))
            while window[0][0] <= when - dt.timedelta(hours=24):
                window.popleft()
            rows.append({"card_id": card, "event_time": _iso(when), "amount": amount,
                         "merchant_category": rng.choice(CATEGORIES), "count_24h": len(window),
                         "amount_24h": round(sum(a for _, a in window), 2), "is_fraud": int(fraud)})
            rate = per_day * (6 if fraud else 1)
            when += dt.timedelta(hours=rng.expovariate(rate / 24), seconds=1)
    return rows


def write(out: Path, cards: int = 300, seed: int = 7) -> dict[str, Path]:
    """The feature file and the two label files under ``out``; their paths by name."""
    rows = sorted(generate(cards, seed), key=lambda r: (str(r["event_time"]), str(r["card_id"])))
    cutoff = _iso(START + dt.timedelta(days=CUTOFF_DAY))
    paths = {"features": out / "transactions.csv", "train": out / "labels" / "train.csv",
             "validation": out / "labels" / "validation.csv"}
    for name, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        chosen = rows if name == "features" else [
            r for r in rows if (str(r["event_time"]) < cutoff) == (name == "train")]
        columns = FEATURES if name == "features" else LABELS
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([row[c] for c in columns] for row in chosen)
    return paths


if __name__ == "__main__":
    import sys

    for name, path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "fraud-data")).items():
        print(f"{name}: {path}")
