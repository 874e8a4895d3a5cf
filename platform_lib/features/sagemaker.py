"""The SageMaker backend: the feature store runtime for writes and online reads, Athena over the
offline store (Glue tables in Iceberg format) for point-in-time training sets.

Clients are created on first use, never at import. Every request shape is tested against botocore's
service models with the Stubber (moto implements neither the runtime nor Athena's results).
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from platform_lib.config.schema.features import Feature, FeatureGroup

from .client import FEATURE_EVENT_TIME, DatasetReport, FailedRow, IngestReport, Progress, Record, output_features
from .table import ROW, quote

BATCH = 25              # BatchWriteRecord's limit of entries per request
READ_BATCH = 100        # BatchGetRecord's limit of identifiers per group
ATTEMPTS = 4            # bounded retries of unprocessed entries (botocore retries throttling itself)
RETRYABLE = {"ThrottlingException", "ServiceUnavailable", "InternalFailure", "RequestTimeout"}
OFFLINE_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")


Pending = tuple[int, str, dict[str, Any]]   # (input row, record id, BatchWriteRecord entry)


class FeatureStoreError(RuntimeError):
    """The service refused a read or a query; the message says what and why."""


@dataclass(frozen=True)
class SageMakerTargets:
    """Where a team's feature store lives (from the stack's TeamOutputs)."""

    region: str
    feature_groups: dict[str, str]    # declared name -> FeatureGroupName
    database: str                      # the team's Glue database (Athena)
    workgroup: str                     # the team's Athena workgroup
    staging_bucket: str                # where label files are staged for Athena (the features bucket)
    staging_prefix: str = "athena/labels"


class SageMakerBackend:
    name = "sagemaker"

    def __init__(self, targets: SageMakerTargets, session: Any = None, workers: int = 4,
                 sleep: Callable[[float], None] = time.sleep, query_timeout: float = 900.0):
        self.targets = targets
        self.con = duckdb.connect()
        self._session = session
        self._clients: dict[str, Any] = {}
        self.workers, self.sleep, self.query_timeout = workers, sleep, query_timeout

    def describe(self) -> str:
        return f"SageMaker Feature Store in {self.targets.region} (Athena workgroup {self.targets.workgroup})"

    def client(self, service: str) -> Any:
        """A client of the library's one session factory (``platform_lib.aws``), unless a session was given."""
        if service not in self._clients:
            if self._session is None:
                from platform_lib.aws import session

                self._clients[service] = session(self.targets.region).client(service)
            else:
                self._clients[service] = self._session.client(service, region_name=self.targets.region)
        return self._clients[service]

    def group_name(self, group: FeatureGroup) -> str:
        try:
            return self.targets.feature_groups[group.name]
        except KeyError:
            raise FeatureStoreError(f"the stack's outputs have no feature group {group.name!r} "
                                    f"(deployed: {', '.join(self.targets.feature_groups) or 'none'}); "
                                    "run pulumi up after declaring it") from None

    # -- ingest ---------------------------------------------------------------------------------
    def ingest(self, group: FeatureGroup, table: duckdb.DuckDBPyRelation, progress: Progress | None) -> IngestReport:
        name = self.group_name(group)
        total = self.con.execute(f"SELECT count(*) FROM {quote(table.alias)}").fetchall()[0][0]
        report = IngestReport(group.name, total)
        columns = [f.name for f in group.features]
        cursor = self.con.execute(f"SELECT {', '.join(map(quote, columns))}, {ROW} FROM {quote(table.alias)} "
                                  f"ORDER BY {ROW}")
        key = columns.index(group.record_identifier)
        batches: list[list[Pending]] = []
        while rows := cursor.fetchmany(BATCH):
            batches.append([(row[-1], str(row[key]), self._entry(name, group, row[:-1])) for row in rows])
        done = 0
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for batch, failed in zip(batches, pool.map(self._write, batches), strict=True):
                report.failed.extend(failed)
                report.stored += len(batch) - len(failed)
                done += len(batch)
                if progress:
                    progress(done, total)
        report.failed.sort(key=lambda f: f.row)
        return report

    @staticmethod
    def _entry(name: str, group: FeatureGroup, values: Sequence[Any]) -> dict[str, Any]:
        record = []
        for feature, value in zip(group.features, values, strict=True):
            if value is None:
                continue   # a missing value is left out of the record, as SageMaker expects
            if feature.list:
                record.append({"FeatureName": feature.name, "ValueAsStringList": [_text(feature, v) for v in value]})
            else:
                record.append({"FeatureName": feature.name, "ValueAsString": _text(feature, value)})
        return {"FeatureGroupName": name, "Record": record}

    def _write(self, batch: list[Pending]) -> list[FailedRow]:
        """One batch with bounded retries of what the service did not process; the rows not stored."""
        from botocore.exceptions import BotoCoreError, ClientError

        pending = list(batch)
        failed: list[FailedRow] = []
        for attempt in range(ATTEMPTS):
            try:
                response = self.client("sagemaker-featurestore-runtime").batch_write_record(
                    Entries=[entry for _, _, entry in pending])
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "Error")
                if code in RETRYABLE and attempt + 1 < ATTEMPTS:
                    self.sleep(min(2 ** attempt * 0.2, 5.0))
                    continue
                message = exc.response.get("Error", {}).get("Message", str(exc))
                return failed + [FailedRow(row, record_id, f"{code}: {message}") for row, record_id, _ in pending]
            except BotoCoreError as exc:
                return failed + [FailedRow(row, record_id, str(exc)) for row, record_id, _ in pending]
            remaining = list(pending)
            for error in response.get("Errors", []):
                row, record_id, _ = _take(remaining, error["Entry"])
                reason = f"{error.get('ErrorCode', 'Error')}: {error.get('ErrorMessage', '')}".rstrip(": ")
                failed.append(FailedRow(row, record_id, reason))
            unprocessed = response.get("UnprocessedEntries", [])
            pending = [_take(remaining, entry) for entry in unprocessed]
            if not pending:
                return failed
            if attempt + 1 < ATTEMPTS:
                self.sleep(min(2 ** attempt * 0.2, 5.0))
        return failed + [FailedRow(row, record_id, f"not processed after {ATTEMPTS} attempts")
                         for row, record_id, _ in pending]

    # -- online reads ---------------------------------------------------------------------------
    def get(self, group: FeatureGroup, record_id: str, features: Sequence[str] | None) -> Record | None:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {"FeatureGroupName": self.group_name(group),
                                   "RecordIdentifierValueAsString": record_id}
        if features:
            request["FeatureNames"] = list(features)
        try:
            response = self.client("sagemaker-featurestore-runtime").get_record(**request)
        except ClientError as exc:
            raise FeatureStoreError(f"get {group.name}/{record_id}: {exc}") from None
        record = response.get("Record")
        return _typed(group, record) if record else None

    def batch_get(self, group: FeatureGroup, record_ids: Sequence[str],
                  features: Sequence[str] | None) -> dict[str, Record]:
        from botocore.exceptions import ClientError

        name = self.group_name(group)
        found: dict[str, Record] = {}
        for start in range(0, len(record_ids), READ_BATCH):
            pending = list(record_ids[start:start + READ_BATCH])
            for attempt in range(ATTEMPTS):
                identifier: dict[str, Any] = {"FeatureGroupName": name, "RecordIdentifiersValueAsString": pending}
                if features:
                    identifier["FeatureNames"] = list(features)
                try:
                    response = self.client("sagemaker-featurestore-runtime").batch_get_record(Identifiers=[identifier])
                except ClientError as exc:
                    raise FeatureStoreError(f"batch get {group.name}: {exc}") from None
                for item in response.get("Records", []):
                    found[item["RecordIdentifierValueAsString"]] = _typed(group, item["Record"])
                errors = response.get("Errors", [])
                if errors:
                    details = "; ".join(f"{e['RecordIdentifierValueAsString']}: {e['ErrorCode']} {e['ErrorMessage']}"
                                        for e in errors)
                    raise FeatureStoreError(f"batch get {group.name}: {details}")
                pending = [i for u in response.get("UnprocessedIdentifiers", [])
                           for i in u["RecordIdentifiersValueAsString"]]
                if not pending:
                    break
                if attempt + 1 < ATTEMPTS:
                    self.sleep(min(2 ** attempt * 0.2, 5.0))
            else:
                raise FeatureStoreError(f"batch get {group.name}: ids {pending} not processed after "
                                        f"{ATTEMPTS} attempts")
        return found

    # -- training sets --------------------------------------------------------------------------
    def dataset(self, group: FeatureGroup, labels: duckdb.DuckDBPyRelation, time_column: str,
                out: Path) -> DatasetReport:
        catalog = self.client("sagemaker").describe_feature_group(FeatureGroupName=self.group_name(group))
        data_catalog = catalog.get("OfflineStoreConfig", {}).get("DataCatalogConfig")
        if not data_catalog:
            raise FeatureStoreError(f"feature group {group.name!r} has no offline store table in the Glue catalog")
        run = uuid.uuid4().hex[:12]
        label_columns = [c for c in labels.columns if c not in (ROW, "__event_ts")]
        key = f"{self.targets.staging_prefix}/{run}/labels.csv"
        body = io.StringIO()
        writer = csv.writer(body, lineterminator="\n")
        for row in self.con.execute(f"SELECT {', '.join(map(quote, label_columns))}, {ROW} FROM {quote(labels.alias)} "
                                    f"ORDER BY {ROW}").fetchall():
            writer.writerow(["" if v is None else _csv_value(v) for v in row])
        s3 = self.client("s3")
        s3.put_object(Bucket=self.targets.staging_bucket, Key=key, Body=body.getvalue().encode())
        table = f"labels_{run}"
        try:
            self._query(create_labels_table(self.targets.database, table, [*label_columns, ROW],
                                            f"s3://{self.targets.staging_bucket}/{self.targets.staging_prefix}/{run}/"))
            execution = self._query(point_in_time_query(group, time_column, label_columns, self.targets.database, table,
                                                        data_catalog))
        finally:
            self._query(f"DROP TABLE IF EXISTS `{self.targets.database}`.`{table}`", check=False)
            s3.delete_object(Bucket=self.targets.staging_bucket, Key=key)
        location = execution["ResultConfiguration"]["OutputLocation"]
        bucket, _, result_key = location.removeprefix("s3://").partition("/")
        data = s3.get_object(Bucket=bucket, Key=result_key)["Body"].read()
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            raw = Path(scratch) / "result.csv"
            raw.write_bytes(data)
            fmt = "PARQUET" if out.suffix.lower() == ".parquet" else "CSV, HEADER"
            self.con.execute(f"COPY (SELECT * FROM read_csv('{raw}', header = true, all_varchar = true)) "
                             f"TO '{out}' (FORMAT {fmt})")
            rows, matched = self.con.execute(
                f"SELECT count(*), count({FEATURE_EVENT_TIME}) FROM read_csv('{raw}', header = true, "
                "all_varchar = true)").fetchall()[0]
        return DatasetReport(out, rows, matched)

    def _query(self, sql: str, check: bool = True) -> dict[str, Any]:
        athena = self.client("athena")
        execution_id = athena.start_query_execution(
            QueryString=sql, WorkGroup=self.targets.workgroup,
            QueryExecutionContext={"Database": self.targets.database, "Catalog": "AwsDataCatalog"},
        )["QueryExecutionId"]
        deadline, wait = time.monotonic() + self.query_timeout, 0.5
        while True:
            execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            state = execution["Status"]["State"]
            if state == "SUCCEEDED":
                return execution
            if state in ("FAILED", "CANCELLED"):
                if not check:
                    return execution
                reason = execution["Status"].get("StateChangeReason", "no reason given")
                raise FeatureStoreError(f"Athena query {execution_id} {state.lower()}: {reason}")
            if time.monotonic() > deadline:
                athena.stop_query_execution(QueryExecutionId=execution_id)
                raise FeatureStoreError(f"Athena query {execution_id} still {state} after {self.query_timeout:.0f}s; "
                                        "stopped")
            self.sleep(wait)
            wait = min(wait * 2, 5.0)


def create_labels_table(database: str, table: str, columns: Sequence[str], location: str) -> str:
    """An external table over the staged label CSV (every column text, cast in the query)."""
    fields = ", ".join(f"`{c}` string" for c in columns)
    return (f"CREATE EXTERNAL TABLE `{database}`.`{table}` ({fields}) "
            "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
            f"LOCATION '{location}'")


def _ts(expression: str, feature: Feature, text: bool) -> str:
    """A time expression in Athena (Trino) SQL from an event time (ISO-8601 text or epoch seconds)."""
    if feature.type == "String":
        return f"from_iso8601_timestamp({expression})"
    return f"from_unixtime(CAST({expression} AS double))" if text else f"from_unixtime({expression})"


def point_in_time_query(group: FeatureGroup, time_column: str, label_columns: Sequence[str], database: str,
                        labels_table: str, data_catalog: dict[str, str]) -> str:
    """For each label row, the latest offline record of its id with event time at or before the label's
    time (never after): ties go to the last write; a deleted record yields no features."""
    event = group.feature(group.event_time)
    key, features = group.record_identifier, output_features(group)
    source = f'"{data_catalog["Database"]}"."{data_catalog["TableName"]}"'
    picked = "".join(f', f."{c}"' for c in features)
    out = "".join(f', CASE WHEN j.deleted_ THEN NULL ELSE j."{c}" END AS "{c}"' for c in features)
    label_ts = _ts(f'l."{time_column}"', event, text=True)
    feature_ts = _ts(f'f."{group.event_time}"', event, text=False)
    return (
        f'WITH labels AS (SELECT *, CAST("{ROW}" AS bigint) AS label_row_ FROM "{database}"."{labels_table}"), '
        f"joined AS (SELECT l.label_row_{picked}, f.\"{group.event_time}\" AS feature_time_, "
        f"f.is_deleted AS deleted_, row_number() OVER (PARTITION BY l.label_row_ ORDER BY {feature_ts} DESC, "
        f"f.api_invocation_time DESC, f.write_time DESC) AS rank_ "
        f'FROM labels l JOIN {source} f ON CAST(f."{key}" AS varchar) = l."{key}" AND {feature_ts} <= {label_ts}) '
        f"SELECT {', '.join(f'l.{chr(34)}{c}{chr(34)}' for c in label_columns)}{out}, "
        f"CASE WHEN j.deleted_ THEN NULL ELSE CAST(j.feature_time_ AS varchar) END AS {FEATURE_EVENT_TIME} "
        f"FROM labels l LEFT JOIN joined j ON j.label_row_ = l.label_row_ AND j.rank_ = 1 "
        f"ORDER BY l.label_row_"
    )


def _text(feature: Feature, value: Any) -> str:
    if feature.type == "Fractional":
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{feature.name}: {value!r} is not finite")
        return repr(number)
    if feature.type == "Integral":
        return str(int(value))
    return str(value)


def _csv_value(value: Any) -> str:
    return str(value)


def _take(pending: list[Pending], entry: dict[str, Any]) -> Pending:
    """Remove and return the pending row whose entry the service echoed back (first equal record)."""
    for index, (_, _, candidate) in enumerate(pending):
        if candidate["Record"] == entry["Record"]:
            return pending.pop(index)
    raise FeatureStoreError(f"the service returned an entry that was not sent: {entry}")


def _typed(group: FeatureGroup, record: list[dict[str, Any]]) -> Record:
    """A runtime record (every value a string) as typed Python values."""
    result: Record = {}
    by_name = {f.name: f for f in group.features}
    for value in record:
        feature = by_name.get(value["FeatureName"])
        if feature is None:
            continue
        if feature.list:
            result[feature.name] = [_parse(feature, v) for v in value.get("ValueAsStringList", [])]
        else:
            result[feature.name] = _parse(feature, value.get("ValueAsString"))
    return result


def _parse(feature: Feature, text: str | None) -> Any:
    if text is None:
        return None
    if feature.type == "Integral":
        return int(text)
    if feature.type == "Fractional":
        return float(text)
    return text
