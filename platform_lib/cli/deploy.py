"""`mlp deploy`, `mlp invoke`, `mlp status`: serve an approved model version on a target and call it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .common import fail, project_root
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

if TYPE_CHECKING:
    from platform_lib.config.schema.serving import ServedModel


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
    """Deploy an approved version (an unapproved one is refused), or --stop the endpoint.

    A model the team stack serves on SageMaker is released through the stack (its file, the offline plan,
    `pulumi up`); any other endpoint (the sandbox) is created or updated directly."""
    from platform_lib import stack_release
    from platform_lib.targets.base import DeployRequest

    ctx = context(stack, plan, profile, as_json)
    stack_file = project_root() / "stacks" / f"Pulumi.{stack}.yaml"
    if target_name.value == "sagemaker":   # local servers and pods are never a stack's endpoint
        owned = ctx.team.endpoints.get(model, {}).values()
        try:
            served = stack_release.owner(stack_file, model) if stack_file.is_file() else None
        except stack_release.ReleaseRefused as exc:
            fail(str(exc))
        if served is not None and (endpoint is None or endpoint in owned):
            if stop:
                fail(f"{model} is served by stack {stack} ({stack_file}, ml-platform:serving.models): remove it "
                     f"there and run pulumi up to stop its endpoint, or give --endpoint for a sandbox")
            _release_through_stack(ctx, stack_file, model, version, served)
            return
        if endpoint in owned:
            fail(f"endpoint {endpoint} belongs to stack {stack}; mlp deploy changes it only through the stack")
    chosen = target(ctx, target_name, kubeconfig=kubeconfig, dry_run=dry_run, gpus=gpus)
    name = _endpoint(ctx, model, endpoint)
    with errors():
        if stop:
            result = chosen.stop(name)
        else:
            package = _approved(ctx, model, version)
            result = chosen.deploy(DeployRequest(name, package, ctx.team, instance_type, instance_count), ctx.say)
    emit(ctx, result.as_json(), summary(f"mlp deploy: {name}", {
        "target": target_name.value, "status": result.status, "package": result.package_arn or "-",
        "url": result.url or "-", "detail": result.detail or "-"}))


def _release_through_stack(ctx: Context, stack_file: Path, model: str, version: int | None,
                           served: ServedModel) -> None:
    """Record the approved version in the stack file (plan-checked), copy its artifact to the other served
    regions, and apply the stack with `pulumi up` (Automation API) or print the command
    (``stack_release.ship``); a failure puts the stack file and the copies back."""
    from platform_lib import stack_release

    undo = stack_release.Undo()
    with errors():
        package = _approved(ctx, model, version)
        try:
            item = stack_release.release(ctx.stack, stack_file, model, package, ctx.team)
            shipped = stack_release.ship(item, served, ctx.aws, ctx.team, project_root(), undo, ctx.say)
        except stack_release.ReleaseRefused as exc:
            undo.run()
            fail(str(exc))
        except stack_release.ApplyFailed as exc:
            undo.run()
            fail(f"{exc}; {stack_file} has its old text again and the regional copies this run made are removed. "
                 f"Resources the update changed before it failed go back with `pulumi up` of the restored file: "
                 f"{exc.command}")
        except BaseException:
            undo.run()
            raise
    applied, copied = shipped.applied, shipped.copied
    status = "Applied" if applied.result else "Recorded"
    document = {"stack": ctx.stack, "model": model, "version": package.version, "packageArn": package.arn,
                "stackFile": str(stack_file), "image": item.image, "modelData": item.model_data,
                "copiedTo": copied, "status": status, "result": applied.result, "command": applied.command}
    emit(ctx, document, summary(f"mlp deploy: {model} v{package.version} through stack {ctx.stack}", {
        "status": status, "stack file": f"{stack_file} (modelVersions.{model} = {package.version})",
        "image": item.image, "modelData": item.model_data,
        **({"pulumi up": applied.result} if applied.result else {"next": applied.command})}))
    if not applied.result and not ctx.json:
        typer.echo(applied.command)


def _approved(ctx: Context, model: str, version: int | None) -> Any:
    """The requested version, refused unless Approved; by default the newest Approved one."""
    from platform_lib import outputs, registry

    sm = ctx.aws.client("sagemaker")
    group = outputs.package_group(ctx.team, model)
    if version is not None:
        return registry.require_approved(registry.find(sm, group, version))
    return registry.latest_approved(sm, group)


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
