"""Reading the ``train`` and ``validation`` channels: CSV files with a header and a label column."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training import channels as channel_files
from training.channels import FileDigest, manifest_sha256
from training.contract import Channel
from training.errors import DataError

REQUIRED_CHANNELS = ("train", "validation")
CSV_CONTENT_TYPES = frozenset({"text/csv", "csv", "application/csv", "text/x-csv"})
_INT = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Table:
    """One channel's rows: float features and raw (string) labels."""

    columns: tuple[str, ...]
    features: np.ndarray
    labels: list[str]


@dataclass(frozen=True)
class Dataset:
    """Both channels, encoded: ``*_y`` index into ``classes``."""

    feature_names: tuple[str, ...]
    label_name: str
    classes: tuple[int | str, ...]
    train_x: np.ndarray
    train_y: np.ndarray
    validation_x: np.ndarray
    validation_y: np.ndarray
    files: tuple[FileDigest, ...]

    @property
    def sha256(self) -> str:
        return manifest_sha256(self.files)


def csv_files(channel: Channel) -> list[Path]:
    """The CSV files of a channel (``*.csv``, recursively, hidden files skipped)."""
    if channel.content_type and channel.content_type.split(";")[0].strip().lower() not in CSV_CONTENT_TYPES:
        raise DataError(f"channel '{channel.name}' declares ContentType '{channel.content_type}'; "
                        "this trainer reads text/csv.")
    return channel_files.files(channel, "*.csv")


def _rows(path: Path) -> list[list[str]]:
    """The non-empty rows of a CSV file; a binary or non-UTF-8 file is a :class:`DataError`."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                        "channels hold CSV files in UTF-8.") from None
    if "\x00" in text:
        raise DataError(f"{path} contains NUL bytes at offset {text.index(chr(0))} (a binary file?); "
                        "channels hold CSV files in UTF-8.")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise DataError(f"{path} is not a readable CSV file ({exc}).") from None


def _read_file(path: Path, label: str, only: Sequence[str] = ()) -> Table:
    """The file's rows; with ``only``, just those feature columns (the others, e.g. ids and times, are
    not read as numbers)."""
    rows = _rows(path)
    if not rows:
        raise DataError(f"{path} is empty; expected a header row and data rows.")
    header = tuple(name.strip() for name in rows[0])
    if len(set(header)) != len(header):
        raise DataError(f"{path} has duplicate column names in its header.")
    if label not in header:
        raise DataError(f"{path} has no '{label}' column (set the label_column hyperparameter); "
                        f"its header starts with {list(header[:5])}.")
    if len(header) < 2:
        raise DataError(f"{path} has no feature columns besides '{label}'.")
    missing = [name for name in only if name not in header]
    if missing:
        raise DataError(f"{path} has no column(s) {missing} named by the feature_columns hyperparameter; "
                        f"its header is {list(header)}.")
    if label in only:
        raise DataError(f"feature_columns names the label column '{label}'.")
    body = rows[1:]
    if not body:
        raise DataError(f"{path} has a header but no data rows.")
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DataError(f"{path} line {line} has {len(row)} fields, the header has {len(header)}.")
    if only:
        keep = [header.index(name) for name in (*only, label)]
        body = [[row[i] for i in keep] for row in body]
        header = (*only, label)
    label_at = header.index(label)
    labels = [row[label_at].strip() for row in body]
    values = [row[:label_at] + row[label_at + 1:] for row in body]
    try:
        features = np.asarray(values, dtype=np.float64)
    except ValueError:
        features = _locate_bad_value(path, header, label_at, values)
    if not np.isfinite(features).all():
        line, col = np.argwhere(~np.isfinite(features))[0]
        name = [h for i, h in enumerate(header) if i != label_at][col]
        raise DataError(f"{path} line {line + 2} column '{name}' is not a finite number.")
    if any(not value for value in labels):
        raise DataError(f"{path} line {labels.index('') + 2} has an empty '{label}'.")
    columns = header[:label_at] + header[label_at + 1:]
    return Table(columns=columns, features=features.astype(np.float32), labels=labels)


def _locate_bad_value(path: Path, header: tuple[str, ...], label_at: int, values: list[list[str]]) -> np.ndarray:
    names = [h for i, h in enumerate(header) if i != label_at]
    for line, row in enumerate(values, start=2):
        for name, cell in zip(names, row, strict=True):
            try:
                float(cell)
            except ValueError:
                raise DataError(f"{path} line {line} column '{name}' is not a number: {cell!r}.") from None
    raise DataError(f"{path} contains values that are not numbers.")


def _read_channel(channel: Channel, label: str, only: Sequence[str] = ()) -> tuple[Table, list[FileDigest]]:
    tables: list[Table] = []
    digests: list[FileDigest] = []
    for path in csv_files(channel):
        table = _read_file(path, label, only)
        if tables and table.columns != tables[0].columns:
            raise DataError(f"{path} has columns {list(table.columns)[:5]}..., other files of channel "
                            f"'{channel.name}' have {list(tables[0].columns)[:5]}...; all files must share one header.")
        tables.append(table)
        digests.append(channel_files.digest(channel, path))
    merged = Table(
        columns=tables[0].columns,
        features=np.concatenate([t.features for t in tables]),
        labels=[label for t in tables for label in t.labels],
    )
    return merged, digests


def _classes(labels: Sequence[str]) -> tuple[int | str, ...]:
    unique = set(labels)
    if all(_INT.fullmatch(v) for v in unique):
        return tuple(sorted(int(v) for v in unique))
    return tuple(sorted(unique))


def _encode(labels: Sequence[str], classes: tuple[int | str, ...], channel: str) -> np.ndarray:
    index = {str(c): i for i, c in enumerate(classes)}
    if classes and isinstance(classes[0], int):
        labels = [str(int(v)) if _INT.fullmatch(v) else v for v in labels]
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise DataError(f"channel '{channel}' has labels {unknown[:5]} that never occur in the train channel "
                        f"(train classes: {list(classes)[:20]}).")
    return np.asarray([index[v] for v in labels], dtype=np.int64)


def load(channels: Mapping[str, Channel], label: str, world_size: int = 1,
         feature_columns: Sequence[str] = ()) -> Dataset:
    """Read and check both channels; every problem raises a :class:`DataError` naming file and line.

    ``feature_columns`` picks the columns to train on, in that order (default: all but the label)."""
    missing = [name for name in REQUIRED_CHANNELS if name not in channels]
    if missing:
        raise DataError(f"missing channel(s) {missing}: this trainer needs CSV channels "
                        f"{list(REQUIRED_CHANNELS)} (found {sorted(channels) or 'none'}).")
    if world_size > 1 and channels["train"].distribution == "ShardedByS3Key":
        raise DataError("channel 'train' is ShardedByS3Key, but distributed training shards the data "
                        "itself; use S3DistributionType FullyReplicated.")
    train, train_files = _read_channel(channels["train"], label, feature_columns)
    validation, validation_files = _read_channel(channels["validation"], label, feature_columns)
    if set(validation.columns) != set(train.columns):
        extra = sorted(set(validation.columns) ^ set(train.columns))[:5]
        raise DataError(f"the validation channel's columns differ from the train channel's (e.g. {extra}).")
    order = [validation.columns.index(name) for name in train.columns]
    classes = _classes(train.labels)
    if len(classes) < 2:
        raise DataError(f"the train channel has only one class ({list(classes)}); a classifier needs two or more.")
    return Dataset(
        feature_names=train.columns,
        label_name=label,
        classes=classes,
        train_x=train.features,
        train_y=_encode(train.labels, classes, "train"),
        validation_x=validation.features[:, order],
        validation_y=_encode(validation.labels, classes, "validation"),
        files=tuple(train_files + validation_files),
    )
