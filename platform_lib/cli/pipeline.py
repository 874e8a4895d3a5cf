"""`mlp pipeline show|run`: a model's retraining pipeline, as the team stack deploys it, and run locally."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .common import console, fail, project_root
from .delivery import JSON, MODEL, PLAN, PROFILE, STACK, TARGET, TargetName, context, emit, errors, summary, target

if TYPE_CHECKING:
    from platform_lib.pipeline.definition import Spec

    from .delivery import Context

pipeline_app = typer.Typer(no_args_is_help=True, help="A model's scheduled retraining pipeline (SageMaker Pipelines).")

STACKS_DIR = typer.Option(None, "--stacks-dir", metavar="DIR",
                          help="Where Pulumi.<stack>.yaml files live (default: ./stacks).")


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")


def _spec(ctx: Context, model: str, stacks_dir: Path | None) -> Spec:
    """The pipeline's inputs: the stack's outputs and platform, and the model's declaration in its stack file."""
    from infra.naming import tags
    from platform_lib import outputs
    from platform_lib.config.loader import ConfigError, load_stack_file
    from platform_lib.config.schema import TeamConfig
    from platform_lib.pipeline.definition import Spec

    path = (stacks_dir or project_root() / "stacks") / f"Pulumi.{ctx.stack}.yaml"
    try:
        config = load_stack_file(path).config
    except ConfigError as exc:
        fail(str(exc))
    if not isinstance(config, TeamConfig):
        fail(f"{path}: {ctx.stack} is a platform stack; a retraining pipeline belongs to a team stack")
    try:
        declaration = config.model_registry.model(model)
    except KeyError as exc:
        fail(f"{path}: {exc.args[0]}")
    if declaration.retraining is None:
        fail(f"{path}: model {model!r} declares no retraining (ml-platform:modelRegistry.models[].retraining)")
    with errors():
        platform = outputs.platform(ctx.stack, ctx.plan)
    wanted = declaration.retraining.feature_group
    group = next((g for g in config.features.groups if g.name == wanted), None)
    return Spec(ctx.team, declaration, platform, tags(config, ctx.stack), group)


@pipeline_app.command("show")
def show(stack: str = STACK, model: str = MODEL, plan: Path | None = PLAN,
         stacks_dir: Path | None = STACKS_DIR) -> None:
    """Print the pipeline definition (JSON) the team stack deploys for the model."""
    from platform_lib.pipeline.definition import definition

    ctx = context(stack, plan, None, True)
    spec = _spec(ctx, model, stacks_dir)
    with errors():
        typer.echo(json.dumps(definition(spec), indent=2, sort_keys=True))


@pipeline_app.command("run")
def run(
    stack: str = STACK,
    model: str = MODEL,
    target_name: TargetName = TARGET,
    plan: Path | None = PLAN,
    profile: str | None = PROFILE,
    stacks_dir: Path | None = STACKS_DIR,
    features_dir: Path | None = typer.Option(None, "--features-dir", metavar="DIR", help="Local feature store of a "
                                             "model trained on a feature group (default: as mlp features --data-dir)."),
    as_json: bool = JSON,
) -> None:
    """Run the pipeline's steps one by one: prepare, train, evaluate, check the gates, register PendingManualApproval.

    Only --target local runs here; on SageMaker the stack's schedule starts it (or `aws sagemaker
    start-pipeline-execution --pipeline-name <team>-<env>-<model>-retrain`). Exit 0 when registered, 2 when a
    step failed or a gate refused (nothing registered then).
    """
    from platform_lib.pipeline import local

    if target_name.value != "local":
        fail(f"--target {target_name.value}: the deployed pipeline runs on SageMaker on its schedule; start it with "
             f"`aws sagemaker start-pipeline-execution --pipeline-name <team>-<env>-{model}-retrain`. "
             f"Here: --target local")
    ctx = context(stack, plan, profile, as_json)
    spec = _spec(ctx, model, stacks_dir)
    chosen = target(ctx, target_name)
    if spec.feature_group is not None and features_dir is None:
        from .features import DATA_DIR_ENV

        features_dir = Path(os.environ.get(DATA_DIR_ENV) or Path.home() / ".mlp" / "features" / stack)
    with errors():
        outcome = local.run(spec, chosen, ctx.aws.client("sagemaker"), ctx.aws.client("s3"), ctx.say, features_dir)
    rows = {step.name: f"{step.status}{': ' + step.detail if step.detail else ''}" for step in outcome.steps}
    emit(ctx, outcome.as_json(), summary(f"mlp pipeline run: {spec.name} ({outcome.status})", {
        **rows, **{k: f"{v:.4f}" for k, v in sorted(outcome.metrics.items())}}))
    if outcome.status != "Succeeded":
        raise typer.Exit(2)
    if outcome.package is not None and not as_json:
        console.print(f"next: mlp models approve --stack {stack} --model {model} --version {outcome.package.version}",
                      highlight=False)
