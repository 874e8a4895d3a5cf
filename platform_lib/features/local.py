"""The local backend: the same semantics as SageMaker Feature Store, on a laptop.

- offline store: one DuckDB table per group under ``<root>/offline.duckdb``, every record ever
  ingested (like the offline store's history), read with an ASOF join for point-in-time training sets;
- online store: one SQLite table per group under ``<root>/online.sqlite``, the latest record per id
  by event time (an older event never overwrites a newer one), expired after the group's TTL.

SQLite serves the online reads because a DuckDB point query costs about a millisecond of planning;
SQLite answers a primary-key lookup in microseconds.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from platform_lib.config.schema.features import FeatureGroup

from .client import FEATURE_EVENT_TIME, DatasetReport, IngestReport, Progress, Record, output_features
from .table import EVENT_TS, ROW, quote, sql_type

SEQ = "__seq"                # ingest order: the later write wins between records of the same event time
WRITE_TIME = "write_time"    # when the record was stored, as in SageMaker's offline store
BATCH = 50_000


def table_name(kind: str, group: FeatureGroup) -> str:
    return f"{kind}_{group.name.replace('-', '_')}"


class LocalBackend:
    """Feature groups stored under ``root`` (created if missing)."""

    name = "local"
    join_fanout = 64   # records per id up to which training sets use a hash join rather than ASOF

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.root / "offline.duckdb"))
        self.online = sqlite3.connect(str(self.root / "online.sqlite"), isolation_level=None,
                                      check_same_thread=False)
        self.online.execute("PRAGMA journal_mode=WAL")
        self.online.execute("PRAGMA synchronous=NORMAL")
        self._statements: dict[tuple[str, tuple[str, ...] | None, int], str] = {}
        self._readers: dict[tuple[str, tuple[str, ...] | None], _Reader] = {}

    def describe(self) -> str:
        return f"local store in {self.root}"

    def close(self) -> None:
        self.con.close()
        self.online.close()

    # -- schema ---------------------------------------------------------------------------------
    def _offline_table(self, group: FeatureGroup) -> str:
        name = table_name("offline", group)
        columns = [f"{quote(f.name)} {sql_type(f)}" for f in group.features]
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {quote(name)} ({', '.join(columns)}, "
                         f"{WRITE_TIME} TIMESTAMP, {EVENT_TS} TIMESTAMP, {SEQ} BIGINT)")
        self._same_columns(group, name, [c[0] for c in self.con.execute(
            f"SELECT name FROM pragma_table_info({_text(name)})").fetchall()])
        return name

    def _online_table(self, group: FeatureGroup) -> str:
        name = table_name("online", group)
        columns = [f"{quote(f.name)} {_SQLITE[f.type] if not f.list else 'TEXT'}" for f in group.features]
        self.online.execute(f"CREATE TABLE IF NOT EXISTS {quote(name)} ({', '.join(columns)}, "
                            f"{EVENT_TS} REAL NOT NULL, PRIMARY KEY ({quote(group.record_identifier)})) "
                            "WITHOUT ROWID")
        self._same_columns(group, name, [r[1] for r in self.online.execute(f"PRAGMA table_info({quote(name)})")])
        return name

    @staticmethod
    def _same_columns(group: FeatureGroup, table: str, columns: list[str]) -> None:
        stored = [c for c in columns if not c.startswith("__") and c != WRITE_TIME]
        declared = [f.name for f in group.features]
        if stored != declared:
            raise ValueError(f"the local store holds {group.name!r} with features {stored}, but the stack now "
                             f"declares {declared}; ingest into a new directory or delete {table}")

    # -- writes ---------------------------------------------------------------------------------
    def ingest(self, group: FeatureGroup, table: duckdb.DuckDBPyRelation, progress: Progress | None) -> IngestReport:
        """Store the checked input in one transaction per store (all or nothing): every row in the offline
        history, the latest row per id in the online store (in chunks, reporting progress)."""
        staged = quote(table.alias)
        total = self.con.execute(f"SELECT count(*) FROM {staged}").fetchall()[0][0]
        names = ", ".join(quote(f.name) for f in group.features)
        offline = self._offline_table(group) if group.offline_store.enabled else None
        online = self._online_statement(group) if group.online_store.enabled else None
        marks = quote(f"latest_{table.alias}")
        if online:
            # Only the latest record per id of the whole input goes online (later rows win ties); the
            # upsert then keeps a stored record that is newer.
            key = quote(group.record_identifier)
            self.con.execute(f"CREATE TEMP TABLE {marks} AS SELECT {ROW} AS r FROM {staged} QUALIFY row_number() "
                             f"OVER (PARTITION BY {key} ORDER BY {EVENT_TS} DESC, {ROW} DESC) = 1")
        self.con.execute("BEGIN")
        self.online.execute("BEGIN")
        try:
            if offline:
                self.con.execute(f"INSERT INTO {quote(offline)} SELECT {names}, now()::TIMESTAMP, {EVENT_TS}, "
                                 f"(SELECT coalesce(max({SEQ}), 0) FROM {quote(offline)}) + {ROW} FROM {staged}")
            if online:
                rows = self.con.execute(
                    f"SELECT {', '.join(_to_sqlite(quote(f.name), f.list) for f in group.features)}, "
                    f"epoch_us({EVENT_TS}) / 1e6, {ROW} FROM {staged} WHERE {ROW} IN (SELECT r FROM {marks}) "
                    f"ORDER BY {ROW}")
                while chunk := rows.fetchmany(BATCH):
                    self.online.executemany(online, [row[:-1] for row in chunk])
                    if progress:
                        progress(chunk[-1][-1], total)
            if progress:
                progress(total, total)
            self.online.execute("COMMIT")
            self.con.execute("COMMIT")
        except BaseException:
            self.online.execute("ROLLBACK")
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {staged}")
            self.con.execute(f"DROP TABLE IF EXISTS {marks}")
        return IngestReport(group.name, total, stored=total)

    def _online_statement(self, group: FeatureGroup) -> str:
        online = quote(self._online_table(group))
        columns = [*(f.name for f in group.features), EVENT_TS]
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns)
        return (f"INSERT INTO {online} ({', '.join(map(quote, columns))}) VALUES ({', '.join('?' * len(columns))}) "
                f"ON CONFLICT ({quote(group.record_identifier)}) DO UPDATE SET {updates} "
                f"WHERE excluded.{EVENT_TS} >= {online}.{EVENT_TS}")

    # -- online reads ---------------------------------------------------------------------------
    def _select(self, group: FeatureGroup, features: Sequence[str] | None, count: int) -> str:
        key = (group.name, tuple(features) if features is not None else None, count)
        statement = self._statements.get(key)
        if statement is None:
            table = table_name("online", group)
            wanted = list(features) if features is not None else [f.name for f in group.features]
            if group.record_identifier not in wanted:
                wanted = [group.record_identifier, *wanted]
            marks = ", ".join("?" * count)
            statement = (f"SELECT {', '.join(map(quote, wanted))} FROM {quote(table)} "
                         f"WHERE {quote(group.record_identifier)} IN ({marks}) AND {EVENT_TS} > ?")
            self._statements[key] = statement
        return statement

    def _decode(self, group: FeatureGroup, cursor: sqlite3.Cursor, features: Sequence[str] | None) -> dict[str, Record]:
        columns = [d[0] for d in cursor.description]
        lists = {f.name for f in group.features if f.list}
        found: dict[str, Record] = {}
        for row in cursor:
            record = {c: json.loads(v) if c in lists and v is not None else v
                      for c, v in zip(columns, row, strict=True)}
            record_id = str(record[group.record_identifier])
            if features is not None and group.record_identifier not in features:
                del record[group.record_identifier]
            found[record_id] = record
        return found

    def _not_expired_after(self, group: FeatureGroup) -> float:
        ttl = group.online_store.ttl
        return time.time() - ttl.seconds() if ttl else float("-inf")

    def get(self, group: FeatureGroup, record_id: str, features: Sequence[str] | None) -> Record | None:
        reader = self._readers.get((group.name, None if features is None else tuple(features)))
        if reader is None:
            reader = self._readers[(group.name, None if features is None else tuple(features))] = _Reader(
                group, features, self._select(group, features, 1))
        try:
            row = self.online.execute(reader.statement, (reader.key(record_id), self._not_expired_after(group))
                                      ).fetchone()
        except sqlite3.OperationalError:
            self._online_table(group)   # nothing ingested yet
            return None
        return None if row is None else reader.record(row)

    def batch_get(self, group: FeatureGroup, record_ids: Sequence[str],
                  features: Sequence[str] | None) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for start in range(0, len(record_ids), 500):
            chunk = [_key(group, i) for i in record_ids[start:start + 500]]
            try:
                cursor = self.online.execute(self._select(group, features, len(chunk)),
                                             (*chunk, self._not_expired_after(group)))
            except sqlite3.OperationalError:
                self._online_table(group)
                return {}
            found.update(self._decode(group, cursor, features))
        return found

    # -- training sets --------------------------------------------------------------------------
    def dataset(self, group: FeatureGroup, labels: duckdb.DuckDBPyRelation, time_column: str,
                out: Path) -> DatasetReport:
        """For each label row, the latest record of its id with event time at or before the label's
        time (never after); among records of the same event time, the last one written."""
        offline = quote(self._offline_table(group))
        staged = quote(labels.alias)
        label_columns = [c for c in labels.columns if c not in (ROW, EVENT_TS)]
        features = output_features(group)
        query = (
            f"WITH hits AS ({self._hits(group, offline, staged)}) "
            f"SELECT {', '.join('l.' + quote(c) for c in label_columns)}"
            f"{''.join(', f.' + quote(c) for c in features)}, {_event_time_out(group)} AS {FEATURE_EVENT_TIME} "
            f"FROM {staged} l LEFT JOIN hits h ON h.{ROW} = l.{ROW} LEFT JOIN {offline} f ON f.{SEQ} = h.seq "
            f"ORDER BY l.{ROW}")
        out.parent.mkdir(parents=True, exist_ok=True)
        fmt = "PARQUET" if out.suffix.lower() == ".parquet" else "CSV, HEADER"
        try:
            self.con.execute(f"COPY ({query}) TO {_text(str(out))} (FORMAT {fmt})")
        finally:
            self.con.execute(f"DROP TABLE IF EXISTS {staged}")
        scan = f"read_parquet({_text(str(out))})" if fmt == "PARQUET" else f"read_csv({_text(str(out))}, header = true)"
        rows, matched = self.con.execute(
            f"SELECT count(*), count({FEATURE_EVENT_TIME}) FROM {scan}").fetchall()[0]
        return DatasetReport(out, rows, matched)

    def _hits(self, group: FeatureGroup, offline: str, labels: str) -> str:
        """``(__row, seq)``: the offline record each label row gets.

        Two plans with the same answer: with few records per id, a hash join on the id filtered to
        earlier events and reduced with ``max_by`` is the fastest; with many records per id that join
        would multiply rows, and an ASOF join (sorting by id and time once) wins. Both order records of
        one id by (event time, write order).
        """
        key = quote(group.record_identifier)
        records, ids = self.con.execute(
            f"SELECT count(*), approx_count_distinct({key}) FROM {offline}").fetchall()[0]
        if records <= self.join_fanout * max(ids, 1):
            return (f"SELECT l.{ROW}, max_by(f.{SEQ}, (f.{EVENT_TS}, f.{SEQ})) AS seq FROM {labels} l "
                    f"JOIN {offline} f ON f.{key} = l.{key} AND f.{EVENT_TS} <= l.{EVENT_TS} GROUP BY l.{ROW}")
        return (f"SELECT m.{ROW}, r.k.s AS seq FROM "
                f"(SELECT {ROW}, {key}, {{'t': {EVENT_TS}, 's': 9223372036854775807::BIGINT}} AS k FROM {labels}) m "
                f"ASOF JOIN (SELECT {key}, {{'t': {EVENT_TS}, 's': {SEQ}}} AS k FROM {offline}) r "
                f"ON m.{key} = r.{key} AND m.k >= r.k")


_SQLITE = {"Integral": "INTEGER", "Fractional": "REAL", "String": "TEXT"}


class _Reader:
    """What one kind of online read needs, worked out once: the statement, the key's type, the columns."""

    def __init__(self, group: FeatureGroup, features: Sequence[str] | None, statement: str):
        self.statement = statement
        wanted = list(features) if features is not None else [f.name for f in group.features]
        self.columns = wanted if group.record_identifier in wanted else [group.record_identifier, *wanted]
        self.drop_key = group.record_identifier not in wanted
        self.lists = [i for i, c in enumerate(self.columns) if group.feature(c).list]
        kind = group.feature(group.record_identifier).type
        self.key = (lambda v: _number(v, int)) if kind == "Integral" else (
            (lambda v: _number(v, float)) if kind == "Fractional" else str)

    def record(self, row: tuple[Any, ...]) -> Record:
        values = list(row)
        for index in self.lists:
            if values[index] is not None:
                values[index] = json.loads(values[index])
        record = dict(zip(self.columns, values, strict=True))
        if self.drop_key:
            del record[self.columns[0]]
        return record


def _number(value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        return value


def _to_sqlite(column: str, is_list: bool) -> str:
    return f"CAST(to_json({column}) AS VARCHAR)" if is_list else column


def _event_time_out(group: FeatureGroup) -> str:
    """The joined record's event time, in the group's own format."""
    if group.feature(group.event_time).type == "String":
        return f"strftime(f.{EVENT_TS}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    return f"epoch_us(f.{EVENT_TS}) / 1e6"


def _key(group: FeatureGroup, record_id: str) -> Any:
    kind = group.feature(group.record_identifier).type
    try:
        return int(record_id) if kind == "Integral" else float(record_id) if kind == "Fractional" else record_id
    except ValueError:
        return record_id


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
