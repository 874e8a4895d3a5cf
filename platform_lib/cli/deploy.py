"""`mlp deploy`, `mlp invoke`, `mlp status`: serve an approved model version on a target and call it."""

from __future__ import annotations

import json
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
    Context,
    TargetName,
    context,
    emit,
    errors,
    summary,
    target,
)


def register(app: typer.Typer) -> None:
    app.command()(deploy)
    app.command()(invoke)
    app.command()(status)


def _endpoint(ctx: Context, model: str, endpoint: str | None) -> str:
    from platform_lib import outputs

    return endpoint or outputs.sandbox_endpoint(ctx.team, model)


ENDPOINT = typer.Option(None, "--endpoint", "-e", help="Endpoint name (default: <team>-<env>-<model>-sandbox).")


def deploy(
    stack: str = STACK,
    model: str = MODEL,
    target_name: TargetName = TARGET,
    version: int | None = typer.Option(None, "--version", "-v", help="Default: the newest approved version."),
    endpoint: str | None = ENDPOINT,
    stop: bool = typer.Option(False, "--stop", help="Stop the endpoint instead (local: the server process)."),
    instance_type: str = typer.Option("ml.m5.large", "--instance-type"),
    instance_count: int = typer.Option(1, "--instance-count", min=1),
    gpus: int = typer.Option(0, "--gpus", min=0, help="GPUs per pod (kubernetes)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig", help="Apply to this cluster (kubernetes)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the manifests only (kubernetes)."),
    plan: Path | None = PLAN,
    profile: str | None = PROFILE,
    as_json: bool = JSON,
) -> None:
    """Deploy an approved version (an unapproved one is refused), or --stop the endpoint."""
    from platform_lib import outputs, registry
    from platform_lib.targets.base import DeployRequest

    ctx = context(stack, plan, profile, as_json)
    chosen = target(ctx, target_name, kubeconfig=kubeconfig, dry_run=dry_run, gpus=gpus)
    name = _endpoint(ctx, model, endpoint)
    with errors():
        if stop:
            result = chosen.stop(name)
        else:
            sm = ctx.aws.client("sagemaker")
            group = outputs.package_group(ctx.team, model)
            package = (registry.require_approved(registry.find(sm, group, version)) if version is not None
                       else registry.latest_approved(sm, group))
            result = chosen.deploy(DeployRequest(name, package, ctx.team, instance_type, instance_count), ctx.say)
    emit(ctx, result.as_json(), summary(f"mlp deploy: {name}", {
        "target": target_name.value, "status": result.status, "package": result.package_arn or "-",
        "url": result.url or "-", "detail": result.detail or "-"}))


def invoke(
    stack: str = STACK,
    model: str = MODEL,
    target_name: TargetName = TARGET,
    endpoint: str | None = ENDPOINT,
    body: str | None = typer.Option(None, "--body", "-b", help="Request body, e.g. '[[0, 1, ...]]'."),
    file: Path | None = typer.Option(None, "--file", "-f", help="Read the request body from this file."),
    content_type: str = typer.Option("application/json", "--content-type"),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig"),
    plan: Path | None = PLAN,
    profile: str | None = PROFILE,
    as_json: bool = JSON,
) -> None:
    """Send one request to the endpoint and print the answer (SageMaker: the primary region, then failover)."""
    if (body is None) == (file is None):
        fail("give exactly one of --body TEXT or --file PATH")
    if file is not None and not file.is_file():
        fail(f"--file {file}: no such file")
    payload = body.encode() if body is not None else file.read_bytes()  # type: ignore[union-attr]
    ctx = context(stack, plan, profile, as_json)
    chosen = target(ctx, target_name, kubeconfig=kubeconfig)
    name = _endpoint(ctx, model, endpoint)
    with errors():
        if target_name.value == "sagemaker":
            regions = [ctx.team.primary_region, *(r for r in ctx.team.models_buckets if r != ctx.team.primary_region)]
            answer = chosen.invoke(name, payload, content_type, regions=regions)
        else:
            answer = chosen.invoke(name, payload, content_type)
    text = answer.decode(errors="replace")
    if as_json:
        try:
            typer.echo(json.dumps({"endpoint": name, "response": json.loads(text)}, indent=2))
        except json.JSONDecodeError:
            typer.echo(json.dumps({"endpoint": name, "response": text}))
    else:
        typer.echo(text)


def status(
    stack: str = STACK,
    model: str = MODEL,
    target_name: TargetName = TARGET,
    endpoint: str | None = ENDPOINT,
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig"),
    plan: Path | None = PLAN,
    profile: str | None = PROFILE,
    as_json: bool = JSON,
) -> None:
    """The endpoint's state and the version it serves, next to the model's newest and approved versions."""
    from platform_lib import outputs, registry

    ctx = context(stack, plan, profile, as_json)
    chosen = target(ctx, target_name, kubeconfig=kubeconfig)
    name = _endpoint(ctx, model, endpoint)
    with errors():
        deployment = chosen.status(name)
        packages = registry.list_packages(ctx.aws.client("sagemaker"), outputs.package_group(ctx.team, model))
    approved = [p for p in packages if p.status == registry.APPROVED]
    serving = next((p for p in packages if p.arn == deployment.package_arn), None)
    document = {"endpoint": deployment.as_json(), "servingVersion": serving.version if serving else None,
                "newestVersion": packages[-1].version if packages else None,
                "newestApprovedVersion": approved[-1].version if approved else None}
    emit(ctx, document, summary(f"mlp status: {name}", {
        "target": target_name.value, "status": deployment.status, "url": deployment.url or "-",
        "serving version": document["servingVersion"] or "-", "newest version": document["newestVersion"] or "-",
        "newest approved": document["newestApprovedVersion"] or "-"}))
