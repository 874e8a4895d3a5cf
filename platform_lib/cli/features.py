"""`mlp features list|ingest|get|dataset`: a team's declared feature groups, on the local store or on
SageMaker Feature Store (names from the stack's outputs, the contract)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .common import console, err_console, fail, project_root
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from platform_lib.config.schema.features import FeaturesConfig
    from platform_lib.features.client import FeatureClient

features_app = typer.Typer(no_args_is_help=True, help="Feature groups: ingest, read online, build training sets.")
DATA_DIR_ENV = "MLP_FEATURES_DIR"
PROGRESS_FROM_ROWS = 50_000   # inputs this large show a progress bar


class BackendName(StrEnum):
    local = "local"
    sagemaker = "sagemaker"


def register(app: typer.Typer) -> None:
    app.add_typer(features_app, name="features")


StackOption = typer.Option(..., "--stack", "-s", metavar="NAME", help="The team stack (stacks/Pulumi.<NAME>.yaml).")
BackendOption = typer.Option(None, "--backend", help="local or sagemaker (default: sagemaker when AWS "
                                                     "credentials or AWS_ENDPOINT_URL are configured, else local).")
DataDirOption = typer.Option(None, "--data-dir", metavar="DIR",
                             help=f"Local store directory (default: ${DATA_DIR_ENV} or ~/.mlp/features/<stack>).")
PlanOption = typer.Option(None, "--plan", metavar="FILE", help="Read the stack's outputs from this plan JSON "
                                                              "(default: pulumi stack output, else out/plan.json).")


def default_backend() -> BackendName:
    """sagemaker when boto3 finds credentials or an endpoint is configured, else local."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return BackendName.sagemaker
    import boto3

    return BackendName.sagemaker if boto3.Session().get_credentials() is not None else BackendName.local


def declarations(stack: str) -> FeaturesConfig:
    from platform_lib.config.loader import ConfigError, load_stack_file
    from platform_lib.config.schema import TeamConfig

    path = project_root() / "stacks" / f"Pulumi.{stack}.yaml"
    try:
        config = load_stack_file(path).config
    except ConfigError as exc:
        fail(str(exc))
    if not isinstance(config, TeamConfig):
        fail(f"stack {stack} is a platform stack; feature groups belong to team stacks")
    return config.features


def client(stack: str, backend: BackendName | None, data_dir: Path | None, plan: Path | None,
           session: Any = None) -> FeatureClient:
    """The stack's feature client on the chosen backend; ``session``: a boto3 session (e.g. of a --profile)."""
    from platform_lib.features.client import FeatureClient

    chosen = backend or default_backend()
    if chosen is BackendName.local:
        from platform_lib.features.local import LocalBackend

        root = data_dir or Path(os.environ.get(DATA_DIR_ENV) or Path.home() / ".mlp" / "features" / stack)
        store = FeatureClient(declarations(stack), LocalBackend(root))
    else:
        from platform_lib import outputs
        from platform_lib.features.sagemaker import SageMakerBackend, SageMakerTargets

        try:
            team = outputs.team(stack, plan)
        except outputs.OutputsError as exc:
            fail(str(exc))
        if not team.feature_database or not team.athena_workgroup:
            fail(f"the outputs of {stack} name no feature store (featureDatabase, athenaWorkgroup): "
                 "run pulumi up with this version of the blueprint")
        targets = SageMakerTargets(team.primary_region, dict(team.feature_groups), team.feature_database,
                                   team.athena_workgroup, team.buckets["features"])
        store = FeatureClient(declarations(stack), SageMakerBackend(targets, session=session))
    err_console.print(f"backend: {store.backend.describe()}", highlight=False)
    return store


def _group_or_fail(store: FeatureClient, group: str) -> None:
    from platform_lib.features.client import UnknownGroupError

    try:
        store.group(group)
    except UnknownGroupError as exc:
        fail(str(exc))


@features_app.command("list")
def list_groups(stack: str = StackOption, backend: BackendName | None = BackendOption,
                data_dir: Path | None = DataDirOption, plan: Path | None = PlanOption) -> None:
    """The stack's feature groups: keys, stores and their deployed names."""
    groups = declarations(stack).groups
    deployed: dict[str, str] = {}
    if (backend or default_backend()) is BackendName.sagemaker:
        deployed = dict(client(stack, backend, data_dir, plan).backend.targets.feature_groups)  # type: ignore[attr-defined]
    else:
        client(stack, backend, data_dir, plan)
    if not groups:
        console.print(f"stack {stack} declares no feature groups (ml-platform:features.groups)")
        return
    for group in groups:
        online = group.online_store
        stores = ", ".join(filter(None, [
            f"online (ttl {online.ttl.value} {online.ttl.unit.lower()})" if online.enabled and online.ttl
            else "online" if online.enabled else None,
            "offline" if group.offline_store.enabled else None]))
        name = f" -> {deployed[group.name]}" if group.name in deployed else ""
        console.print(f"{group.name}{name}: {len(group.features)} features, id {group.record_identifier}, "
                      f"event time {group.event_time}; {stores}", highlight=False)


@features_app.command()
def ingest(file: Path = typer.Argument(..., metavar="FILE", help=".csv or .parquet with the declared columns"),
           stack: str = StackOption, group: str = typer.Option(..., "--group", "-g", metavar="GROUP"),
           backend: BackendName | None = BackendOption, data_dir: Path | None = DataDirOption,
           plan: Path | None = PlanOption) -> None:
    """Check FILE against the group's declaration, then store it (nothing is written if a row is bad)."""
    from platform_lib.features.table import FeatureInputError

    store = client(stack, backend, data_dir, plan)
    _group_or_fail(store, group)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("ingest", total=None, visible=False)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total >= PROGRESS_FROM_ROWS)

        try:
            report = store.ingest(group, file, progress=progress)
        except (FeatureInputError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
    console.print(report.summary(), highlight=False)
    for failed in report.failed:
        console.print(f"  row {failed.row} ({group} id {failed.record_id}): {failed.error}", highlight=False)
    if report.failed:
        raise typer.Exit(int(ExitCode.VIOLATIONS))


@features_app.command()
def get(record_ids: list[str] = typer.Argument(..., metavar="ID...", help="Record identifiers"),
        stack: str = StackOption, group: str = typer.Option(..., "--group", "-g", metavar="GROUP"),
        feature: list[str] = typer.Option([], "--feature", "-f", help="Only these features (repeatable)."),
        backend: BackendName | None = BackendOption, data_dir: Path | None = DataDirOption,
        plan: Path | None = PlanOption) -> None:
    """The latest record of each ID from the online store, as JSON (null when absent or expired)."""
    store = client(stack, backend, data_dir, plan)
    _group_or_fail(store, group)
    try:
        found: dict[str, Any] = store.batch_get(group, record_ids, feature or None)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(json.dumps({i: found.get(i) for i in record_ids}, indent=2, default=str))


@features_app.command()
def dataset(stack: str = StackOption, group: str = typer.Option(..., "--group", "-g", metavar="GROUP"),
            labels: Path = typer.Option(..., "--labels", metavar="FILE", help="Label events (.csv or .parquet): "
                                                                              "the record id, a time, the labels."),
            out: Path = typer.Option(..., "--out", metavar="FILE", help="Training set to write (.parquet or .csv)."),
            time_column: str | None = typer.Option(None, "--time-column", help="The labels' time column "
                                                                               "(default: the group's event time)."),
            backend: BackendName | None = BackendOption, data_dir: Path | None = DataDirOption,
            plan: Path | None = PlanOption) -> None:
    """A point-in-time training set: each label row with the latest feature values at or before its time."""
    from platform_lib.features.table import FeatureInputError

    store = client(stack, backend, data_dir, plan)
    _group_or_fail(store, group)
    try:
        report = store.dataset(group, labels, out, time_column)
    except (FeatureInputError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    console.print(f"{report.path}: {report.rows} label rows, {report.matched} with features at or before "
                  f"their time", highlight=False)
