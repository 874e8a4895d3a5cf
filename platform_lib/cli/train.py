"""`mlp train`: train a model on a target from the stack's outputs; the run is recorded for `mlp register`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .common import fail
from .delivery import (
    JSON,
    MODEL,
    PLAN,
    PROFILE,
    STACK,
    TARGET,
    TargetName,
    context,
    default_image,
    emit,
    errors,
    jobs_dir,
    pairs,
    summary,
    target,
)
from .features import BackendName


def register(app: typer.Typer) -> None:
    app.command()(train)


def train(
    stack: str = STACK,
    model: str = MODEL,
    target_name: TargetName = TARGET,
    data: Path | None = typer.Option(None, "--data", help="Local folder of channel folders (train/, validation/); "
                                     "uploaded to the team's curated tier once per content."),
    channel: list[str] = typer.Option([], "--channel", help="NAME=s3://bucket/prefix/, or NAME=features:GROUP@LABELS: "
                                      "the point-in-time training set of a feature group for the label events "
                                      "in the file LABELS, built and uploaded (repeatable)."),
    features_backend: BackendName | None = typer.Option(None, "--features-backend", help="Feature store of "
                                                        "features: channels: local or sagemaker (as mlp features)."),
    features_dir: Path | None = typer.Option(None, "--features-dir", help="Local feature store directory "
                                             "(as mlp features --data-dir)."),
    hyperparameter: list[str] = typer.Option([], "--hp", help="NAME=VALUE hyperparameter (repeatable)."),
    metric_name: list[str] = typer.Option([], "--metric-name", help="A metric your code prints per epoch "
                                          "(training.metrics; repeatable). Default: the digits example's."),
    source: Path | None = typer.Option(None, "--source", help="Folder of your training code (bundled)."),
    entry_point: str | None = typer.Option(None, "--entry-point", help="Script in --source that trains."),
    image: str | None = typer.Option(None, "--image", help="Training image (ECR URI on sagemaker/kubernetes)."),
    instance_type: str = typer.Option("ml.m5.large", "--instance-type"),
    instance_count: int = typer.Option(1, "--instance-count", min=1),
    spot: bool = typer.Option(False, "--spot", help="Managed spot training with checkpoints in S3 (sagemaker)."),
    gpus: int = typer.Option(0, "--gpus", min=0, help="GPUs per pod (kubernetes)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig", help="Apply to this cluster (kubernetes)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the manifests only (kubernetes)."),
    job_name: str | None = typer.Option(None, "--job-name", help="Default: <model>-<UTC time>."),
    plan: Path | None = PLAN,
    profile: str | None = PROFILE,
    as_json: bool = JSON,
) -> None:
    """Train on the target; the model goes to the team's models bucket (SSE-KMS) as model.tar.gz."""
    from platform_lib import bundle, channels, outputs
    from platform_lib.targets.base import TrainingRequest

    if bool(source) != bool(entry_point):
        fail("--source and --entry-point go together: the folder of your code and the script in it")
    if not data and not channel:
        fail("give the training data: --data FOLDER (with train/ and validation/) or --channel NAME=s3://...")
    if source is not None and entry_point is not None and not (
            (source / entry_point).is_file() or (source / entry_point / "__main__.py").is_file()):
        fail(f"--entry-point {entry_point} is neither a file in {source} nor a package with a __main__.py there")
    ctx = context(stack, plan, profile, as_json)
    chosen = target(ctx, target_name, kubeconfig=kubeconfig, dry_run=dry_run, gpus=gpus)
    name = job_name or f"{model}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    with errors():
        uris, built = {}, {}
        for key, value in pairs(channel, "--channel").items():
            spec = channels.FeatureChannel.parse(value)
            if spec is None:
                uris[key] = value
            else:
                built[key] = spec
        if built:
            from .features import client as feature_store

            store = feature_store(stack, features_backend, features_dir, plan, session=ctx.aws.session)
            uris |= channels.from_features(ctx.aws.client("s3"), ctx.team, model, store, built, ctx.say)
        if data is not None:
            folders = {p.name: p for p in sorted(data.iterdir()) if p.is_dir()} if data.is_dir() else {}
            if not folders:
                fail(f"--data {data}: expected a folder with one folder per channel (train/, validation/)")
            uris |= channels.upload(ctx.aws.client("s3"), ctx.team, model, folders)
        source_uri = None
        if source is not None and entry_point is not None:
            packed = bundle.pack(source, "source")
            bucket, key_arn = outputs.models_location(ctx.team)
            source_uri, sent = bundle.upload(ctx.aws.client("s3"), packed, bucket, f"source/{model}", key_arn)
            ctx.say(f"source {'uploaded to' if sent else 'already at'} {source_uri}")
        request = TrainingRequest(name, model, ctx.team, default_image("training", target_name, image), uris,
                                  pairs(hyperparameter, "--hp"), source_uri, entry_point, instance_type,
                                  instance_count, spot, metric_names=tuple(metric_name))
        result = chosen.train(request, ctx.say)
    record = {**result.as_json(), "stack": stack, "model": model, "image": request.image,
              "sourceUri": source_uri, "channels": uris}
    if result.status not in ("DryRun",):
        jobs_dir().mkdir(parents=True, exist_ok=True)
        (jobs_dir() / f"{name}.json").write_text(json.dumps(record, indent=2))
    emit(ctx, record, summary(f"mlp train: {name}", {
        "target": target_name.value, "status": result.status, "model": result.model_data_url or "-",
        **{k: f"{v:.4f}" for k, v in sorted(result.metrics.items())}, "seconds": f"{result.seconds:.1f}",
        **({"failure": result.failure_reason} if result.failure_reason else {}),
        "next": f"mlp register --stack {stack} --model {model} --job {name}" if result.status == "Completed" else "-"}))
    if result.status not in ("Completed", "DryRun"):
        raise typer.Exit(2)
