"""``python -m platform_lib.pipeline.prepare``: the retraining pipeline's Prepare step (SageMaker Processing contract).

Reads ``<processing>/input/<channel>/`` and writes ``<processing>/output/<channel>/``, which SageMaker uploads to an
execution's own prefix; the training step reads those prefixes (``<processing>``: ``/opt/ml/processing``, or
``SAGEMAKER_PROCESSING_DIR`` for local runs).

- Without ``--feature-group``: each channel's files, copied as they are (at least one per channel). The training
  reads this snapshot, not the data prefix that new uploads keep changing.
- With ``--feature-group``: the channel's files are label events (CSV, one header); the output is the
  point-in-time training set of the group for them, built by the CLI's own code (``channels.training_sets``,
  ``FeatureClient.dataset``). The store is the group's offline store, given as the input
  ``<processing>/input/offline-store/`` (the job runs with network isolation: no Athena, so its Iceberg data files
  are read with DuckDB into a local store), or an existing local store (``--local-store DIR``, local runs).

The group's declaration comes as arguments (``--feature NAME:TYPE[:list]``, one per feature), so the pipeline
definition shows exactly what the step builds. A failure writes its reason to ``<processing>/output/failure``
and exits 1, so the pipeline stops before training.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from training.evaluation import base_dir

if TYPE_CHECKING:
    from platform_lib.config.schema.features import FeatureGroup
    from platform_lib.features.client import FeatureClient

OFFLINE_INPUT = "offline-store"
DELETED = "is_deleted"
WRITE_ORDER = ("api_invocation_time", "write_time")   # the offline store's columns that order a record's writes


class PrepareError(Exception):
    """The training set cannot be prepared; the message says why."""


def feature_arguments(group: FeatureGroup) -> list[str]:
    """A group's declaration as the step's arguments (what ``declared_group`` reads back), one per feature:
    CreateProcessingJob takes at most 100."""
    return [f"--feature-group={group.name}", f"--record-identifier={group.record_identifier}",
            f"--event-time={group.event_time}",
            *(f"--feature={f.name}:{f.type}{':list' if f.list else ''}" for f in group.features)]


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m platform_lib.pipeline.prepare", description=__doc__.split("\n")[0])
    parse.add_argument("--channel", action="append", required=True, help="a channel to prepare (repeatable)")
    parse.add_argument("--feature-group", help="build this group's point-in-time training set for the label events")
    parse.add_argument("--record-identifier")
    parse.add_argument("--event-time")
    parse.add_argument("--feature", action="append", default=[], metavar="NAME:TYPE[:list]")
    parse.add_argument("--offline-store-name", help="the deployed FeatureGroupName (its offline store's folder)")
    parse.add_argument("--local-store", type=Path, help="read features from this local store (mlp features)")
    return parse


def declared_group(args: argparse.Namespace) -> FeatureGroup:
    """The group's declaration from the arguments, validated by the stack schema's own model."""
    from pydantic import ValidationError

    from platform_lib.config.schema.features import FeatureGroup

    features = []
    for text in args.feature:
        name, _, rest = text.partition(":")
        kind, _, flag = rest.partition(":")
        features.append({"name": name, "type": kind, "list": flag == "list"})
    try:
        return FeatureGroup.model_validate({
            "name": args.feature_group, "description": "declared in the team's stack file",
            "recordIdentifier": args.record_identifier, "eventTime": args.event_time, "features": features,
            "onlineStore": {"enabled": any(f["list"] for f in features)}, "offlineStore": {"enabled": True}})
    except ValidationError as exc:
        raise PrepareError(f"feature group {args.feature_group!r} as given to the step: {exc}") from None


def offline_files(root: Path, name: str) -> list[Path]:
    """The offline store's Parquet data files of the group named ``name`` under ``root``.

    The input's S3 prefix ends ``offline-store/<name>-``, which also matches another group whose name merely
    starts with ``name-``: only folders ``<name>-<creation time>`` (or ``<creation time>`` when the prefix was
    stripped) belong to this group."""
    own = re.compile(rf"^(?:{re.escape(name)}-)?\d+$")
    return sorted(path for path in root.rglob("*.parquet")
                  if own.match(path.relative_to(root).parts[0]) and path.is_file())


@contextmanager
def offline_store(group: FeatureGroup, root: Path, name: str) -> Iterator[FeatureClient]:
    """A local store holding the group's offline records (deleted ones left out), written in their order."""
    import duckdb

    from platform_lib.config.schema.features import FeaturesConfig
    from platform_lib.features.client import FeatureClient
    from platform_lib.features.local import LocalBackend
    from platform_lib.features.table import quote

    files = offline_files(root, name)
    if not files:
        raise PrepareError(f"the offline store of {name} has no data files under {root}: ingest features first")
    with tempfile.TemporaryDirectory(prefix="mlp-offline-") as scratch:
        records = Path(scratch) / "records.parquet"
        sources = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
        columns = ", ".join(quote(f.name) for f in group.features)
        with duckdb.connect() as con:
            present = {c[0] for c in con.sql(f"DESCRIBE SELECT * FROM read_parquet({sources}, union_by_name = true)"
                                             ).fetchall()}
            kept = f"WHERE NOT coalesce({DELETED}, false)" if DELETED in present else ""
            order = ", ".join(c for c in WRITE_ORDER if c in present) or "1"
            con.execute(f"COPY (SELECT {columns} FROM read_parquet({sources}, union_by_name = true) {kept} "
                        f"ORDER BY {order}) TO '{records}' (FORMAT PARQUET)")
        backend = LocalBackend(Path(scratch) / "store")
        try:
            store = FeatureClient(FeaturesConfig.model_validate({"groups": [group.model_dump(by_alias=True)]}),
                                  backend)
            report = store.ingest(group.name, records)
            if not report.ok:
                raise PrepareError(f"the offline store of {name}: {report.summary()}")
            yield store
        finally:
            backend.close()


@contextmanager
def local_store(group: FeatureGroup, directory: Path) -> Iterator[FeatureClient]:
    """The local store of ``mlp features`` (the stack's declaration of the group, as the step received it)."""
    from platform_lib.config.schema.features import FeaturesConfig
    from platform_lib.features.client import FeatureClient
    from platform_lib.features.local import LocalBackend

    backend = LocalBackend(directory)
    try:
        yield FeatureClient(FeaturesConfig.model_validate({"groups": [group.model_dump(by_alias=True)]}), backend)
    finally:
        backend.close()


def channel_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise PrepareError(f"no files in {directory}: upload the channel's data under the model's dataPrefix")
    return files


def labels_file(directory: Path, out: Path) -> Path:
    """One CSV of a channel's label files (every file has the same header, which it keeps once)."""
    files = channel_files(directory)
    header = None
    with out.open("w", encoding="utf-8", newline="") as combined:
        for path in files:
            if path.suffix.lower() != ".csv":
                raise PrepareError(f"{path.relative_to(directory.parent)}: label files are CSV with a header")
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            if not lines:
                continue
            if header is None:
                header = lines[0]
                combined.write(header)
            elif lines[0].strip() != header.strip():
                raise PrepareError(f"{path.relative_to(directory.parent)}: header {lines[0].strip()!r} differs from "
                                   f"{header.strip()!r} of the channel's first file")
            body = lines[1:]
            if body and not body[-1].endswith("\n"):
                body[-1] += "\n"
            combined.writelines(body)
    if header is None:
        raise PrepareError(f"the label files in {directory} are empty")
    return out


def prepare(args: argparse.Namespace, base: Path, say: Callable[[str], None] = print) -> dict[str, Path]:
    """Write every channel's training data to ``base/output/<channel>/``; the folders written."""
    inputs, output = base / "input", base / "output"
    if args.feature_group is None:
        written = {}
        for channel in args.channel:
            source, target = inputs / channel, output / channel
            for path in channel_files(source):
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
            say(f"channel {channel}: {len(channel_files(target))} files")
            written[channel] = target
        return written
    from platform_lib import channels, outputs

    group = declared_group(args)
    with tempfile.TemporaryDirectory(prefix="mlp-labels-") as scratch:
        specs = {channel: channels.FeatureChannel(group.name, labels_file(inputs / channel,
                                                                          Path(scratch) / f"{channel}.csv"))
                 for channel in args.channel}
        store = (local_store(group, args.local_store) if args.local_store is not None
                 else offline_store(group, inputs / OFFLINE_INPUT, args.offline_store_name or group.name))
        with store as client:
            try:
                return channels.training_sets(client, specs, output, say)
            except outputs.OutputsError as exc:
                raise PrepareError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    base = base_dir()
    (base / "output").mkdir(parents=True, exist_ok=True)
    try:
        prepare(args, base)
    except (PrepareError, OSError, ValueError) as exc:
        for channel in args.channel:   # nothing half written
            shutil.rmtree(base / "output" / channel, ignore_errors=True)
        (base / "output" / "failure").write_text(str(exc))
        print(f"prepare failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
