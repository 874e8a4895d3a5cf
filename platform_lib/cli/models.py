"""`mlp register` and `mlp models list|approve|reject`: versions in the team's model package groups."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from .common import console, fail
from .delivery import JSON, MODEL, PLAN, PROFILE, STACK, Context, context, emit, errors, jobs_dir, pairs, summary

models_app = typer.Typer(no_args_is_help=True, help="List, approve and reject model versions.")


def register(app: typer.Typer) -> None:
    app.command("register")(register_model)
    app.add_typer(models_app, name="models")


def _group(ctx: Context, model: str) -> str:
    from platform_lib import outputs

    with errors():
        return outputs.package_group(ctx.team, model)


def register_model(
    stack: str = STACK,
    model: str = MODEL,
    job: str | None = typer.Option(None, "--job", help="A run of `mlp train` (its record in out/jobs/)."),
    model_dir: Path | None = typer.Option(None, "--model-dir", help="A model folder (model.pt, code/inference.py, "
                                          "model_card.json) to pack, upload and register."),
    image: str = typer.Option("ml-serving:cpu", "--image", help="Serving image the package runs in."),
    image_digest: str = typer.Option("unknown", "--image-digest", help="sha256:... of --image (lineage)."),
    metric: list[str] = typer.Option([], "--metric", help="NAME=VALUE, beyond the model card's (repeatable)."),
    plan: Path | None = PLAN,
    profile: str | None = PROFILE,
    as_json: bool = JSON,
) -> None:
    """Register a trained model as a PendingManualApproval version, with its metrics and lineage."""
    from platform_lib import bundle, outputs, registry

    if (job is None) == (model_dir is None):
        fail("give exactly one of --job NAME (from `mlp train`) or --model-dir FOLDER")
    ctx = context(stack, plan, profile, as_json)
    group = _group(ctx, model)
    with errors():
        if job is not None:
            path = jobs_dir() / f"{job}.json"
            if not path.is_file():
                fail(f"no training run {job} ({path} is missing); runs: "
                     f"{', '.join(p.stem for p in sorted(jobs_dir().glob('*.json'))) or 'none'}")
            record = json.loads(path.read_text())
            if record.get("stack") != stack or record.get("status") != "Completed":
                fail(f"run {job} is {record.get('status')} on stack {record.get('stack')}: only a completed run "
                     f"of {stack} can be registered here")
            url, metrics = record["modelDataUrl"], dict(record.get("metrics") or {})
            lineage = {"data_sha256": record.get("dataSha256") or "unknown",
                       "git_revision": record.get("gitRevision") or "unknown",
                       "model_sha256": record.get("modelSha256")}
            if record.get("sourceUri"):
                lineage["source_sha256"] = record["sourceUri"].rsplit("/", 2)[-2]
        else:
            assert model_dir is not None
            packed = bundle.pack(model_dir, "model")
            card_file = model_dir / "model_card.json"
            card = json.loads(card_file.read_text()) if card_file.is_file() else {}
            bucket, key_arn = outputs.models_location(ctx.team)
            url, _ = bundle.upload(ctx.aws.client("s3"), packed, bucket, f"models/{model}", key_arn,
                                   outputs.stack_tags(stack))
            metrics = {k: v for k, v in (card.get("metrics") or {}).items() if isinstance(v, int | float)}
            lineage = {"data_sha256": (card.get("data") or {}).get("sha256", "unknown"),
                       "git_revision": card.get("git_revision", "unknown"), "model_sha256": packed.sha256}
        metrics |= {k: float(v) for k, v in pairs(metric, "--metric").items()}
        lineage["image_digest"] = image_digest
        package, created = registry.register(
            ctx.aws.client("sagemaker"), group, image=image, model_data_url=url, metrics=metrics,
            lineage={k: v for k, v in lineage.items() if v}, description=f"{model} from {job or model_dir}",
            commit=lineage.get("git_revision"))
    emit(ctx, {**package.as_json(), "created": created}, summary(
        f"mlp register: {group} version {package.version}",
        {"status": package.status, "created": "yes" if created else "no (this artifact was registered already)",
         "artifact": package.model_data_url, **{k: f"{v:.4f}" for k, v in package.metrics.items()},
         **{f"lineage {k}": v for k, v in package.lineage.items()},
         "next": f"mlp models approve --stack {stack} --model {model} --version {package.version}"}))


@models_app.command("list")
def list_models(stack: str = STACK, model: str = MODEL, plan: Path | None = PLAN, profile: str | None = PROFILE,
                as_json: bool = JSON) -> None:
    """Every version of the model, oldest first."""
    from platform_lib import registry

    ctx = context(stack, plan, profile, as_json)
    group = _group(ctx, model)
    with errors():
        packages = registry.list_packages(ctx.aws.client("sagemaker"), group)
    table = Table(title=f"{group} ({stack})")
    metric_names = sorted({m for p in packages for m in p.metrics})
    for column in ("version", "status", *metric_names, "git", "created"):
        table.add_column(column)
    for p in packages:
        table.add_row(str(p.version), p.status, *(f"{p.metrics[m]:.4f}" if m in p.metrics else "-"
                                                   for m in metric_names),
                      p.lineage.get("git_revision", "-")[:12], p.created[:19])
    emit(ctx, {"group": group, "packages": [p.as_json() for p in packages]}, table)


def _decide(stack: str, model: str, version: int, note: str, approve: bool, plan: Path | None,
            profile: str | None, as_json: bool) -> None:
    from platform_lib import registry

    ctx = context(stack, plan, profile, as_json)
    group = _group(ctx, model)
    with errors():
        sm = ctx.aws.client("sagemaker")
        package = registry.find(sm, group, version)
        package = registry.approve(sm, package, note) if approve else registry.reject(sm, package, note)
    emit(ctx, package.as_json(), summary(f"{group} version {package.version}",
                                         {"status": package.status, "note": package.approval_description}))
    if approve and not as_json:
        console.print(f"next: mlp deploy --stack {stack} --model {model} --version {version}")


@models_app.command("approve")
def approve(stack: str = STACK, model: str = MODEL, version: int = typer.Option(..., "--version", "-v"),
            note: str = typer.Option("", "--note", help="Why (kept as the approval description)."),
            plan: Path | None = PLAN, profile: str | None = PROFILE, as_json: bool = JSON) -> None:
    """Approve a version: only approved versions are deployed."""
    _decide(stack, model, version, note, True, plan, profile, as_json)


@models_app.command("reject")
def reject(stack: str = STACK, model: str = MODEL, version: int = typer.Option(..., "--version", "-v"),
           reason: str = typer.Option(..., "--reason", help="Why it must not be deployed."),
           plan: Path | None = PLAN, profile: str | None = PROFILE, as_json: bool = JSON) -> None:
    """Reject a version (it can never be deployed until approved again)."""
    _decide(stack, model, version, reason, False, plan, profile, as_json)


@models_app.command("baseline")
def baseline(stack: str = STACK, model: str = MODEL,
             dataset: str = typer.Option(..., "--dataset", "-d",
                                         help="Key prefix of the training CSV (header row) in the curated bucket."),
             wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for the job to end."),
             plan: Path | None = PLAN, profile: str | None = PROFILE, as_json: bool = JSON) -> None:
    """Compute the drift baseline of a served model from its training set (a Model Monitor job)."""
    from platform_lib import monitoring, outputs

    ctx = context(stack, plan, profile, as_json)
    with errors():
        request = monitoring.baseline_request(ctx.team, outputs.platform(stack, plan), model, dataset)
        result = monitoring.compute_baseline(ctx.aws.client("sagemaker"), request, wait=wait, progress=ctx.say)
    emit(ctx, {"job": request["ProcessingJobName"], "status": result["ProcessingJobStatus"],
               "baseline": monitoring.baseline_uri(ctx.team, model)},
         summary(f"baseline of {model} ({stack})", {"job": request["ProcessingJobName"],
                                                    "status": result["ProcessingJobStatus"],
                                                    "baseline": monitoring.baseline_uri(ctx.team, model)}))
