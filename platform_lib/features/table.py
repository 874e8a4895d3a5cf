"""Input tables for feature groups: read a CSV/Parquet file, a pandas DataFrame or a list of dicts with
DuckDB, and check it against the group's declaration before anything is written.

A checked table has the declared columns, typed (Integral BIGINT, Fractional DOUBLE, String VARCHAR,
lists as arrays), plus ``__row`` (1-based position in the input) and ``__event_ts`` (the event time as
a UTC timestamp, the key of every point-in-time read).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from platform_lib.config.schema.features import Feature, FeatureGroup

ROW, EVENT_TS = "__row", "__event_ts"
SQL_TYPES = {"Integral": "BIGINT", "Fractional": "DOUBLE", "String": "VARCHAR"}
# The event-time formats SageMaker accepts for String event times (UTC, 'Z').
ISO_8601 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$"
_INTEGER = r"^\s*[+-]?\d+\s*$"
MAX_PROBLEMS = 20

Source = str | Path | Iterable[Mapping[str, Any]] | Any   # a path, records, or a pandas DataFrame


class FeatureInputError(ValueError):
    """Input that does not match its feature group's declaration; nothing was written."""

    def __init__(self, group: str, source: str, problems: list[str]):
        self.group, self.source, self.problems = group, source, problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source} does not match feature group {group!r}; nothing was written:\n{lines}")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_type(feature: Feature) -> str:
    base = SQL_TYPES[feature.type]
    return f"{base}[]" if feature.list else base


def describe(source: Source) -> str:
    return str(source) if isinstance(source, (str, Path)) else f"{type(source).__name__} input"


def relation(con: duckdb.DuckDBPyConnection, source: Source) -> duckdb.DuckDBPyRelation:
    """The raw input as a relation with a ``__row`` column (CSV is read as text, so nothing is guessed)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            scan = f"read_parquet({_literal(str(path))})"
        elif suffix in (".csv", ".txt"):
            scan = f"read_csv({_literal(str(path))}, header = true, all_varchar = true)"
        else:
            raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
        return con.sql(f"SELECT *, row_number() OVER () AS {ROW} FROM {scan}")
    if hasattr(source, "columns") and hasattr(source, "dtypes"):   # a pandas DataFrame
        name = f"input_{uuid.uuid4().hex}"
        con.register(name, source)
        return con.sql(f"SELECT *, row_number() OVER () AS {ROW} FROM {quote(name)}")
    rows = list(source)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    text = [{c: _text(row.get(c)) for c in columns} for row in rows]
    name = f"input_{uuid.uuid4().hex}"
    con.execute(f"CREATE TEMP TABLE {quote(name)} ({', '.join(f'{quote(c)} VARCHAR' for c in columns) or 'x VARCHAR'})")
    if text and columns:
        con.executemany(f"INSERT INTO {quote(name)} VALUES ({', '.join('?' for _ in columns)})",
                        [[r[c] for c in columns] for r in text])
    return con.sql(f"SELECT *, row_number() OVER () AS {ROW} FROM {quote(name)}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return str(value)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check(con: duckdb.DuckDBPyConnection, group: FeatureGroup, source: Source,
          time_column: str | None = None, extra_columns: bool = False) -> duckdb.DuckDBPyRelation:
    """The input as a typed relation, or ``FeatureInputError`` naming each bad column and row.

    Label tables (``extra_columns=True``) need the record identifier and a time column
    (``time_column``, default the group's event time) and may carry any other columns (the labels).
    """
    raw = relation(con, source)   # scanned twice (checks, then the typed copy): cheaper than a copy
    name = describe(source)
    columns = [c for c in raw.columns if c != ROW]
    time_column = time_column or group.event_time
    if extra_columns:
        required = {group.record_identifier: group.feature(group.record_identifier),
                    time_column: group.feature(group.event_time)}
    else:
        required = {f.name: f for f in group.features}
    problems = [f"column {c!r} is missing (declared: {', '.join(required)})" for c in required if c not in columns]
    if not extra_columns:
        problems += [f"column {c!r} is not a feature of {group.name!r} (features: {', '.join(required)})"
                     for c in columns if c not in required]
    if problems:
        raise FeatureInputError(group.name, name, problems)
    typed = {c: raw.types[raw.columns.index(c)] for c in columns}
    checks = []
    for column, feature in required.items():
        key = column in (group.record_identifier, time_column)
        for condition, what in _bad_values(quote(column), feature, str(typed[column]), key,
                                           time=column == time_column):
            checks.append(f"SELECT {ROW}, {_literal(column)} AS col, CAST({quote(column)} AS VARCHAR) AS value, "
                          f"{_literal(what)} AS problem FROM raw WHERE {condition}")
    bad = raw.query("raw", f"SELECT * FROM ({' UNION ALL '.join(checks)}) ORDER BY {ROW}, col "
                           f"LIMIT {MAX_PROBLEMS + 1}")
    found = bad.fetchall() if bad is not None else []
    if found:
        problems = [f"row {row}, column {col!r}: {'' if value is None else repr(value) + ' '}{problem}"
                    for row, col, value, problem in found[:MAX_PROBLEMS]]
        if len(found) > MAX_PROBLEMS:
            problems.append(f"... and more (first {MAX_PROBLEMS} shown)")
        raise FeatureInputError(group.name, name, problems)
    selected = [f"{_cast(quote(c), f, str(typed[c]))} AS {quote(c)}" for c, f in required.items()]
    if extra_columns:
        selected += [quote(c) for c in columns if c not in required]
    selected += [ROW, f"{_event_ts(quote(time_column), group.feature(group.event_time))} AS {EVENT_TS}"]
    return _materialized(con, raw.select(", ".join(selected)), "checked")


def _materialized(con: duckdb.DuckDBPyConnection, rel: duckdb.DuckDBPyRelation, kind: str) -> duckdb.DuckDBPyRelation:
    """The relation computed once into a temporary table (files are read once, row numbers fixed)."""
    name = f"{kind}_{uuid.uuid4().hex}"
    rel.create(name)
    return con.table(name).set_alias(name)


def _is_text(duck_type: str) -> bool:
    return duck_type == "VARCHAR"


def _cast(column: str, feature: Feature, duck_type: str) -> str:
    target = sql_type(feature)
    if feature.list:
        source = f"CAST({column} AS JSON)" if _is_text(duck_type) else column
        return f"TRY_CAST({source} AS {target})"
    return f"TRY_CAST({column} AS {target})"


def _event_ts(column: str, feature: Feature) -> str:
    if feature.type == "String":
        return f"CAST(rtrim(CAST({column} AS VARCHAR), 'Z') AS TIMESTAMP)"
    return f"make_timestamp(CAST(round(CAST({column} AS DOUBLE) * 1e6) AS BIGINT))"


def _bad_values(column: str, feature: Feature, duck_type: str, key: bool, time: bool) -> list[tuple[str, str]]:
    """(SQL condition that is true on a bad row, what is wrong) pairs."""
    found: list[tuple[str, str]] = []
    if key:
        found.append((f"{column} IS NULL", "is empty; the record identifier and event time are required"))
    if time and feature.type == "String":
        found.append((f"{column} IS NOT NULL AND NOT regexp_full_match(CAST({column} AS VARCHAR), '{ISO_8601}')",
                      "is not an ISO-8601 UTC time (yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mm:ss.SSSZ)"))
        found.append((f"{column} IS NOT NULL AND regexp_full_match(CAST({column} AS VARCHAR), '{ISO_8601}') "
                      f"AND TRY_CAST(rtrim(CAST({column} AS VARCHAR), 'Z') AS TIMESTAMP) IS NULL",
                      "is not a valid date and time"))
        return found
    if feature.list:
        element = SQL_TYPES[feature.type]
        source = f"TRY_CAST({column} AS JSON)" if _is_text(duck_type) else column
        as_list = f"TRY_CAST({source} AS {element}[])"
        wrong = (f"{column} IS NOT NULL AND ({as_list} IS NULL OR list_count({as_list}) <> len({as_list}))")
        if feature.type == "Integral":
            doubles = f"TRY_CAST({source} AS DOUBLE[])"
            wrong += f" OR ({column} IS NOT NULL AND list_bool_or(list_transform({doubles}, x -> x <> round(x))))"
        example = '["a", "b"]' if feature.type == "String" else "[1, 2]"
        found.append((wrong, f"is not a list of {feature.type} values (write a JSON array, e.g. {example})"))
        return found
    if feature.type == "Integral":
        if _is_text(duck_type):
            condition = f"{column} IS NOT NULL AND NOT regexp_full_match({column}, '{_INTEGER}')"
        else:
            condition = (f"{column} IS NOT NULL AND (TRY_CAST({column} AS DOUBLE) IS NULL OR "
                         f"CAST({column} AS DOUBLE) <> round(CAST({column} AS DOUBLE)))")
        found.append((condition, "is not Integral (a whole number)"))
    elif feature.type == "Fractional":
        found.append((f"{column} IS NOT NULL AND (TRY_CAST({column} AS DOUBLE) IS NULL OR "
                      f"NOT isfinite(TRY_CAST({column} AS DOUBLE)))", "is not Fractional (a finite number)"))
    if time and feature.type == "Fractional":
        found.append((f"TRY_CAST({column} AS DOUBLE) < 0", "is a negative time (seconds since the epoch)"))
    return found
