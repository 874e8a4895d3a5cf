"""One feature-store client, two backends behind one interface.

``FeatureClient`` checks every input against the group's declaration (``table.check``) before a
backend writes anything; the backends (``local``: DuckDB + SQLite on disk, ``sagemaker``: the feature
store runtime and Athena) only store and read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb

from platform_lib.config.schema.features import FeatureGroup, FeaturesConfig

from .table import EVENT_TS, ROW, Source, check

Progress = Callable[[int, int], None]   # (rows done, rows in total)
Record = dict[str, Any]

FEATURE_EVENT_TIME = "feature_event_time"   # in a training set: the event time of the joined record


class UnknownGroupError(KeyError):
    """A feature group that the stack does not declare."""

    def __str__(self) -> str:
        return str(self.args[0])


class StoreDisabledError(ValueError):
    """A read from a store the group's declaration turns off (e.g. `get` without an online store)."""


@dataclass(frozen=True)
class FailedRow:
    row: int            # 1-based position in the input
    record_id: str
    error: str


@dataclass
class IngestReport:
    group: str
    rows: int
    stored: int = 0
    failed: list[FailedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and self.stored == self.rows

    def summary(self) -> str:
        text = f"{self.group}: {self.stored} of {self.rows} rows stored"
        if self.failed:
            rows = ", ".join(str(f.row) for f in self.failed[:50])
            more = f" (and {len(self.failed) - 50} more)" if len(self.failed) > 50 else ""
            text += f"; {len(self.failed)} not stored: rows {rows}{more}"
        return text


@dataclass(frozen=True)
class DatasetReport:
    path: Path
    rows: int
    matched: int        # label rows that found a feature record at or before their time


class Backend(Protocol):
    """What a storage backend does once the input is known to be valid."""

    name: str
    con: duckdb.DuckDBPyConnection   # checks and conversions run in this connection

    def ingest(self, group: FeatureGroup, table: duckdb.DuckDBPyRelation, progress: Progress | None) -> IngestReport:
        ...

    def get(self, group: FeatureGroup, record_id: str, features: Sequence[str] | None) -> Record | None:
        ...

    def batch_get(self, group: FeatureGroup, record_ids: Sequence[str],
                  features: Sequence[str] | None) -> dict[str, Record]:
        ...

    def dataset(self, group: FeatureGroup, labels: duckdb.DuckDBPyRelation, time_column: str,
                out: Path) -> DatasetReport:
        ...

    def describe(self) -> str:
        ...


class FeatureClient:
    """Ingest, online reads and point-in-time training sets for a team's declared feature groups."""

    def __init__(self, declarations: FeaturesConfig, backend: Backend):
        self.declarations = declarations
        self.backend = backend

    def groups(self) -> list[FeatureGroup]:
        return list(self.declarations.groups)

    def group(self, name: str) -> FeatureGroup:
        try:
            return self.declarations.group(name)
        except KeyError as exc:
            raise UnknownGroupError(exc.args[0]) from None

    def ingest(self, group: str, source: Source, progress: Progress | None = None) -> IngestReport:
        """Check the whole input, then store it; the report names the rows that were not stored."""
        declared = self.group(group)
        table = check(self.backend.con, declared, source)
        return self.backend.ingest(declared, table, progress)

    def get(self, group: str, record_id: Any, features: Sequence[str] | None = None) -> Record | None:
        """The latest record of ``record_id`` in the online store, or None."""
        declared = self.group(group)
        _online(declared)
        return self.backend.get(declared, str(record_id), _known(declared, features))

    def batch_get(self, group: str, record_ids: Iterable[Any],
                  features: Sequence[str] | None = None) -> dict[str, Record]:
        """``{record id: latest record}`` for the ids the online store has."""
        declared = self.group(group)
        _online(declared)
        ids = list(dict.fromkeys(str(i) for i in record_ids))
        return self.backend.batch_get(declared, ids, _known(declared, features)) if ids else {}

    def dataset(self, group: str, labels: Source, out: str | Path, time_column: str | None = None) -> DatasetReport:
        """A point-in-time training set: each label row joined with the latest feature values at or
        before its time (never after), written to ``out`` (.parquet or .csv)."""
        declared = self.group(group)
        if not declared.offline_store.enabled:
            raise StoreDisabledError(f"feature group {group!r} has no offline store; training sets come from it")
        time_column = time_column or declared.event_time
        table = check(self.backend.con, declared, labels, time_column=time_column, extra_columns=True)
        clashes = [name for name in output_features(declared) if name in table.columns]
        if FEATURE_EVENT_TIME in table.columns:
            clashes.append(FEATURE_EVENT_TIME)
        if clashes:
            raise ValueError(f"label columns {', '.join(clashes)} have the names of features of {group!r}; rename them")
        out = Path(out)
        if out.suffix.lower() not in (".parquet", ".csv"):
            raise ValueError(f"{out}: write the training set as .parquet or .csv")
        return self.backend.dataset(declared, table, time_column, out)


def _online(group: FeatureGroup) -> None:
    if not group.online_store.enabled:
        raise StoreDisabledError(f"feature group {group.name!r} has no online store; read it with a training set")


def _known(group: FeatureGroup, features: Sequence[str] | None) -> list[str] | None:
    if features is None:
        return None
    declared = [f.name for f in group.features]
    unknown = [f for f in features if f not in declared]
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} not features of {group.name!r} ({', '.join(declared)})")
    return list(features)


def output_features(group: FeatureGroup) -> list[str]:
    """The feature columns a training set adds to the label columns (then ``feature_event_time``)."""
    return [f.name for f in group.features if f.name not in (group.record_identifier, group.event_time)]


__all__ = ["EVENT_TS", "ROW", "Backend", "DatasetReport", "FailedRow", "FeatureClient", "IngestReport",
           "StoreDisabledError", "UnknownGroupError"]
