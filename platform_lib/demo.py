"""`make demo`: the whole lifecycle of one team's model on an embedded AWS, from a fresh clone.

Plans every stack offline, starts moto on 127.0.0.1 (a free port) as the AWS account, creates in it
what fraud-dev's *planned* outputs name (buckets, keys, role, package group), then for that team:
ingests card transactions into its ``transactions`` feature group (the local feature store), builds
point-in-time training sets from it for fraud labels and uploads them as the training channels, trains
the fraud scorer (``training/examples/fraud``) on the local target, registers the model with its metrics
and lineage, approves it, deploys it locally, invokes it on the validation set and compares the
accuracy with the model card's. Everything it started is stopped on success, failure or Ctrl-C.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

STACK, MODEL, GROUP = "fraud-dev", "scorer", "transactions"
HYPERPARAMETERS = {"epochs": "5", "batch_size": "128", "lr": "0.01", "seed": "42"}


class Steps:
    """Runs named steps, timing each, and renders them as the summary table."""

    def __init__(self, console: Console):
        self.console = console
        self.rows: list[tuple[str, float, str]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        notes: list[str] = []
        self.console.rule(f"[bold]{name}")
        started = time.perf_counter()
        try:
            yield notes
        except BaseException:
            self.rows.append((name, time.perf_counter() - started, "[red]failed[/]"))
            raise
        self.rows.append((name, time.perf_counter() - started, "; ".join(notes)))

    def table(self, total: float) -> Table:
        table = Table(title=f"make demo: {STACK}, model {MODEL} — {total:.1f} s")
        for column in ("step", "seconds", "result"):
            table.add_column(column)
        for name, seconds, result in self.rows:
            table.add_row(name, f"{seconds:.1f}", result)
        return table


def _sigterm_as_interrupt() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def run(root: Path, console: Console, hyperparameters: dict[str, str] | None = None,
        record: Callable[[list[tuple[str, float, str]], float], None] | None = None) -> int:
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from platform_lib import aws, bundle, channels, emulator, outputs, registry
    from platform_lib.plan import report, runner
    from platform_lib.targets.base import DeployRequest, TrainingRequest
    from platform_lib.targets.local import LocalTarget

    steps, started = Steps(console), time.perf_counter()
    out = outputs.state_dir()
    target: LocalTarget | None = None
    cleanup = ExitStack()
    try:
        with steps.step("plan every stack offline") as notes:
            plans = runner.plan_stacks(runner.stack_files(root / "stacks"), jobs=os.cpu_count() or 1)
            report.write_json(plans, out / "plan.json")
            console.print(report.summary(plans))
            failed = [p.stack for p in plans if p.exit_code == 2]
            if failed:
                raise SystemExit(f"stacks failed to plan: {', '.join(failed)}")
            notes.append(f"{len(plans)} stacks, {sum(len(p.resources) for p in plans)} resources → "
                         f"{_shown(out / 'plan.json', root)}")
            planned = outputs.team(STACK, out / "plan.json")

        with steps.step("start the embedded AWS (moto)") as notes:
            moto = cleanup.enter_context(emulator.running(planned.account_id))
            notes.append(f"{moto.url}, account {planned.account_id}")
            session = aws.session(region=planned.primary_region)

        with steps.step(f"create {STACK}'s resources from its planned outputs") as notes:
            applied = emulator.provision(session, planned, models=[MODEL])
            plan_file = emulator.write_outputs(STACK, applied, out / "demo" / "outputs.json", plan=out / "plan.json")
            buckets = len(set(applied.buckets.values()) | set(applied.log_buckets.values()))
            notes.append(f"{buckets} buckets, {sum(map(len, applied.key_arns.values()))} KMS keys, role, "
                         f"package group {outputs.package_group(applied, MODEL)}")
            team = outputs.team(STACK, plan_file)   # what every later command reads

        with steps.step(f"ingest features ({GROUP}, local feature store)") as notes:
            from platform_lib.config.loader import load_stack_file
            from platform_lib.features.client import FeatureClient
            from platform_lib.features.local import LocalBackend
            from training.examples.fraud import transactions

            data = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="mlp-demo-")))
            files = transactions.write(data)
            declared = load_stack_file(root / "stacks" / f"Pulumi.{STACK}.yaml").config.features  # type: ignore[union-attr]
            backend = LocalBackend(data / "features")
            cleanup.callback(backend.close)
            store = FeatureClient(declared, backend)
            ingested = store.ingest(GROUP, files["features"])
            if not ingested.ok:
                raise SystemExit(ingested.summary())
            notes.append(ingested.summary())

        with steps.step("training sets from the feature store, bundle the code") as notes:
            specs = {c: channels.FeatureChannel(GROUP, files[c]) for c in ("train", "validation")}
            uris = channels.from_features(session.client("s3"), team, MODEL, store, specs, console.print)
            source = bundle.pack(root / "training" / "examples", "source")   # the team's code: the fraud example
            models_bucket, models_key = outputs.models_location(team)
            source_uri, _ = bundle.upload(session.client("s3"), source, models_bucket, f"source/{MODEL}", models_key,
                                          outputs.stack_tags(STACK))
            notes.append(f"code {source.sha256[:12]} ({source.files} files), point-in-time sets "
                         f"{uris['train'].rsplit('/', 3)[-3][:12]}")

        target = LocalTarget(session, state_dir=out / "demo" / "local", tags=outputs.stack_tags(STACK),
                             warn=console.print)
        with steps.step("train (local target)") as notes:
            job = f"{MODEL}-{time.strftime('%Y%m%d-%H%M%S')}"
            result = target.train(TrainingRequest(job, MODEL, team, "ml-training:cpu", uris,
                                                  hyperparameters or HYPERPARAMETERS, source_uri=source_uri,
                                                  entry_point="fraud"), console.print)
            if result.status != "Completed":
                raise SystemExit(f"training failed: {result.failure_reason}")
            notes.append(f"validation accuracy {result.metrics.get('validation_accuracy', 0):.4f}")

        sm = session.client("sagemaker")
        with steps.step("register the model") as notes:
            package, _ = registry.register(
                sm, outputs.package_group(team, MODEL), image="ml-serving:cpu",
                model_data_url=result.model_data_url or "", metrics=result.metrics,
                lineage={"data_sha256": result.data_sha256 or "unknown",
                         "git_revision": result.git_revision or "unknown", "image_digest": "local",
                         "model_sha256": result.model_sha256 or ""},
                description=f"{MODEL} trained by {job}", commit=result.git_revision)
            notes.append(f"version {package.version}, {package.status}")

        with steps.step("approve") as notes:
            package = registry.approve(sm, package, "approved by make demo")
            notes.append(package.status)

        with steps.step("deploy (local target)") as notes:
            endpoint = outputs.sandbox_endpoint(team, MODEL)
            deployment = target.deploy(DeployRequest(endpoint, package, team), console.print)
            notes.append(f"{endpoint} at {deployment.url}")

        with steps.step("invoke on the validation set") as notes:
            validation = _download(session.client("s3"), uris["validation"], data / "validation.csv")
            accuracy = _invoke(target, endpoint, validation, console)
            card = result.metrics.get("validation_accuracy", float("nan"))
            notes.append(f"accuracy {accuracy:.4f} vs model card {card:.4f}")
            if abs(accuracy - card) > 1e-6:
                raise SystemExit(f"served accuracy {accuracy:.4f} differs from the model card's {card:.4f}")

        with steps.step("stop everything") as notes:
            target.stop_all()
            target = None
            cleanup.close()
            notes.append("local server, moto and temporary files")
    except (KeyboardInterrupt, SystemExit) as exc:
        console.print(f"[red]demo stopped: {str(exc) or 'interrupted'}[/]")
        code = 130 if isinstance(exc, KeyboardInterrupt) else 1
    except Exception as exc:  # noqa: BLE001 - the summary and clean-up still happen
        console.print(f"[red]demo failed: {type(exc).__name__}: {exc}[/]")
        code = 1
    else:
        code = 0
    finally:
        if target is not None:
            target.stop_all()
        cleanup.close()
    total = time.perf_counter() - started
    console.print(steps.table(total))
    if record is not None:
        record(steps.rows, total)
    return code


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _download(s3: Any, prefix_uri: str, path: Path) -> Path:
    """The one file of a channel prefix, as a local file (what the training job read)."""
    bucket, _, prefix = prefix_uri.removeprefix("s3://").partition("/")
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    s3.download_file(bucket, key, str(path))
    return path


def _invoke(target: Any, endpoint: str, validation: Path, console: Console) -> float:
    """Accuracy of the served model on the validation training set, with a few predictions printed.

    Rows go as objects keyed by column name: the model picks its features (the card) and ignores the
    rest (ids, times, the label)."""
    from training.examples.fraud.__main__ import DEFAULTS

    label = DEFAULTS["label_column"]
    features = DEFAULTS["feature_columns"].split(",")
    with validation.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    instances = [{name: float(row[name]) for name in features} for row in rows]
    answer = json.loads(target.invoke(endpoint, json.dumps({"instances": instances}).encode()))
    predictions = answer["predictions"]
    table = Table(title=f"first predictions of {len(predictions)}")
    for column in ("card", "time", label, "predicted", "probability"):
        table.add_column(column)
    for row, p in list(zip(rows, predictions, strict=True))[:5]:
        table.add_row(row["card_id"], row["event_time"], row[label], str(p["class"]), f"{p['probability']:.3f}")
    console.print(table)
    correct = sum(str(p["class"]) == row[label] for row, p in zip(rows, predictions, strict=True))
    return correct / len(rows)


def main() -> None:
    from platform_lib.outputs import project_root

    _sigterm_as_interrupt()
    console = Console(width=None if Console().is_terminal else 140)
    sys.exit(run(project_root(), console))


if __name__ == "__main__":
    main()
