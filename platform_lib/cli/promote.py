"""`mlp promote infra|model` and `mlp rollback`: move a team's config or model to its next environment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .common import console, err_console, fail, project_root
from .exit_codes import ExitCode

if TYPE_CHECKING:
    from platform_lib.aws import Aws
    from platform_lib.config.loader import StackFile
    from platform_lib.contract import TeamOutputs
    from platform_lib.promotion.model import Audit, Gate, Side, StackRelease

promote_app = typer.Typer(no_args_is_help=True,
                          help="Promote infrastructure config or a model to the next environment.")


def register(app: typer.Typer) -> None:
    app.add_typer(promote_app, name="promote")
    app.command("rollback")(rollback)


@promote_app.command("infra")
def infra(
    source: str = typer.Option(..., "--from", metavar="STACK", help="The stack to promote from, e.g. fraud-staging."),
    target: str = typer.Option(..., "--to", metavar="STACK", help="The same team's stack one environment up."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff of the target stack file only."),
    stacks_dir: Path | None = typer.Option(
        None, "--stacks-dir", metavar="DIR", help="Where Pulumi.<stack>.yaml files live (default: ./stacks)."),
    timeout: float = typer.Option(600.0, "--timeout", min=1, metavar="SECONDS",
                                  help="Longest the target's plan may run."),
) -> None:
    """Carry the promotable config of --from into --to's stack file, after planning --to offline.

    Keys meant to differ per environment (marked in the schema, or with environment defaults) stay.
    Exit 0 when written (or nothing to do), 1 when the target's plan has mandatory violations (nothing
    written), 2 on bad input (nothing written).
    """
    from platform_lib.promotion import infra as promotion

    directory = stacks_dir or project_root() / "stacks"
    try:
        src, dst = promotion.load_pair(directory, source, target)
        changes = promotion.promotable_changes(src, dst)
    except promotion.PromotionRefused as exc:
        fail(str(exc))
    if not changes:
        console.print(f"{target} already has every promotable value of {source}; nothing to do", highlight=False)
        raise typer.Exit(int(ExitCode.OK))
    for change in changes:
        what = "added" if change.target is None else "removed" if change.source is None else "changed"
        console.print(f"~ {change.key} ({what})", markup=False, highlight=False)
        if change.review:
            console.print(f"  per-environment values of {source} carried with this new item, review them for "
                          f"{target}: {', '.join(change.review)}", markup=False, highlight=False)
    new_text = promotion.apply(dst.path, changes)
    console.print(promotion.unified_diff(dst.path, new_text), markup=False, highlight=False, end="")
    if dry_run:
        err_console.print("dry run: nothing written", highlight=False)
        raise typer.Exit(int(ExitCode.OK))
    plan = promotion.plan_with(directory, dst.path, new_text, timeout=timeout)
    if plan.error:
        fail(f"{target} as promoted does not plan: {plan.error}; nothing written")
    if plan.mandatory:
        for violation in plan.mandatory:
            err_console.print(f"mandatory {violation.rule}: {violation.message}", markup=False, highlight=False)
        fail(f"{target} as promoted has {len(plan.mandatory)} mandatory violation(s); nothing written",
             ExitCode.VIOLATIONS)
    promotion.write_atomically(dst.path, new_text)
    console.print(f"promoted {len(changes)} key(s) from {source} into {dst.path} (plan compliant); "
                  f"review and commit it, then CI deploys {target}", highlight=False)


STACKS_DIR = typer.Option(None, "--stacks-dir", metavar="DIR",
                          help="Where Pulumi.<stack>.yaml files live (default: ./stacks).")


def _audit() -> Audit:
    """Who (GITHUB_ACTOR, else the login name) and which commit (GITHUB_SHA, else git HEAD)."""
    import getpass
    import os
    import subprocess

    from platform_lib.promotion.model import Audit

    commit = os.environ.get("GITHUB_SHA") or subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip() or "unknown"
    return Audit(actor=os.environ.get("GITHUB_ACTOR") or getpass.getuser(), commit=commit)


def _side(stack: str, model: str, plan: Path | None, profile: str | None) -> tuple[Side, TeamOutputs, Aws]:
    """(Side, TeamOutputs, session) of a stack: its registry, models bucket and key, from its outputs."""
    from platform_lib import aws, outputs
    from platform_lib.promotion.model import Side

    from .delivery import errors

    with errors():
        team = outputs.team(stack, plan)
        bucket, key_arn = outputs.models_location(team)
        group = outputs.package_group(team, model)
    session = aws.session(region=team.primary_region, profile=profile)
    side = Side(stack=stack, sm=session.client("sagemaker"), s3=session.client("s3"), group=group, bucket=bucket,
                key_arn=key_arn, account_id=team.account_id, region=team.primary_region)
    return side, team, session


def _say(message: str) -> None:
    err_console.print(message, markup=False, highlight=False)


def _serving(stack: str, path: Path, model: str, team: TeamOutputs, session: Aws, why: str) -> StackRelease | None:
    """The release through the stack when ``stack`` serves ``model`` (``serving.models[]``, any target)."""
    from platform_lib import stack_release
    from platform_lib.promotion.model import StackRelease

    try:
        served = stack_release.owner(path, model, targets=("sagemaker", "kubernetes"))
    except stack_release.ReleaseRefused as exc:
        fail(str(exc))
    if served is None:
        return None
    return StackRelease(stack, path, model, served, session, team, path.resolve().parent.parent, _say, why)


@contextmanager
def _releasing(what: str, path: Path) -> Iterator[None]:
    """A refused or failed release as exit 2 with its cause; by then everything this run did is undone."""
    from platform_lib import stack_release
    from platform_lib.promotion import model as promotion

    try:
        yield
    except (promotion.GateFailed, stack_release.ReleaseRefused) as exc:
        fail(f"{what}: {exc}; nothing changed")
    except stack_release.ApplyFailed as exc:
        fail(f"{what}: {exc}. Everything this run did is undone: {path} has its old text again, and the package "
             f"and artifact copies it made are removed. Resources the update changed before it failed go back "
             f"with `pulumi up` of the restored file: {exc.command}")


def _served(release: StackRelease, path: Path, model: str, version: int) -> None:
    """What the release through the stack changed, and how it was applied (or the command to apply it)."""
    shipped = release.shipped
    assert shipped is not None
    item, applied = shipped.release, shipped.applied
    console.print(f"{path}: serving.models[{model}].image = {item.image}, modelData = {item.model_data}, "
                  f"modelVersions.{model} = {version} (offline plan compliant)", markup=False, highlight=False)
    if shipped.copied:
        console.print(f"artifact in the models bucket of {', '.join(shipped.copied)} too", markup=False,
                      highlight=False)
    if applied.result:
        console.print(f"pulumi up of {item.stack}: {applied.result}; commit {path} so it states what runs",
                      markup=False, highlight=False)
    else:
        console.print(f"no Pulumi CLI here: commit {path} and apply it (CI deploys it), or run:", markup=False,
                      highlight=False)
        typer.echo(applied.command)


def _gates(stack_file: StackFile, model: str) -> list[Gate]:
    """The thresholds of the model's declaration in the target stack (``modelRegistry.models``)."""
    declarations: Any = getattr(stack_file.config, "model_registry", None)
    if declarations is None:
        fail(f"{stack_file.path}: no modelRegistry section, so no declaration of {model!r} and no thresholds "
             f"to promote against")
    try:
        return list(declarations.model(model).gates)
    except KeyError as exc:
        fail(f"{stack_file.path}: {exc.args[0]}")


@promote_app.command("model")
def model(
    source: str = typer.Option(..., "--from", metavar="STACK", help="The stack whose registry holds the version."),
    target: str = typer.Option(..., "--to", metavar="STACK", help="The same team's stack one environment up."),
    name: str = typer.Option(..., "--model", "-m", help="The model (its declaration gives the thresholds)."),
    version: int | None = typer.Option(None, "--version", min=1, help="Default: the newest Approved version."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="The target's endpoint whose health gates "
                                        "(default: <team>-<env>-<model>)."),
    plan: Path | None = typer.Option(None, "--plan", help="Read both stacks' outputs from this plan JSON."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile of the target account."),
    source_profile: str | None = typer.Option(None, "--from-profile", help="AWS profile of the source account."),
    stacks_dir: Path | None = STACKS_DIR,
) -> None:
    """Promote an Approved model version: gates, copy (re-encrypted), register Approved, then serve it.

    A model --to serves from its stack file is released through the stack as `mlp deploy` does (image,
    modelData and modelVersions written and plan-checked, the artifact copied to every served region,
    `pulumi up` or its command); otherwise only modelVersions is recorded. Exit 0 when promoted (or
    already), 2 when a gate refuses, the input is bad or a step fails; everything is put back then.
    """
    from platform_lib import registry
    from platform_lib.plan import runner
    from platform_lib.promotion import infra
    from platform_lib.promotion import model as promotion

    from .delivery import errors

    directory = stacks_dir or project_root() / "stacks"
    try:
        src_file, dst_file = infra.load_pair(directory, source, target)
    except infra.PromotionRefused as exc:
        fail(str(exc))
    gates = _gates(dst_file, name)
    src, _, _ = _side(source, name, plan, source_profile)
    dst, team, session = _side(target, name, plan, profile)
    serving = _serving(target, dst_file.path, name, team, session, "mlp promote model")
    planned = runner.plan_stacks([dst_file.path], jobs=1, context=sorted(directory.glob("Pulumi.*.yaml")))[-1]
    if planned.error:
        fail(f"{target} does not plan: {planned.error}")
    with errors():
        package = registry.find(src.sm, src.group, version) if version else registry.latest_approved(src.sm, src.group)
        health = promotion.endpoint_health(dst.sm, endpoint or f"{team.team}-{team.environment}-{name}")
        with _releasing(f"{name} version {package.version} not promoted", dst_file.path):
            promoted = promotion.promote(
                src, dst, package, gates, _audit(), plan_mandatory=len(planned.mandatory), rollout_healthy=health,
                record=serving or promotion.version_only(dst_file.path, name),
                check=serving.promotable if serving else None)
    console.print(f"promoted {src.group} v{package.version} -> {dst.group} v{promoted.version} (Approved)",
                  highlight=False)
    if serving is not None:
        _served(serving, dst_file.path, name, promoted.version)
    else:
        console.print(f"{target} does not serve {name} from its stack (no ml-platform:serving.models entry): only "
                      f"{dst_file.path} modelVersions.{name} = {promoted.version} is recorded; commit it",
                      markup=False, highlight=False)


def rollback(
    stack: str = typer.Option(..., "--stack", "-s", help="The stack serving the model."),
    name: str = typer.Option(..., "--model", "-m", help="The model to roll back."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded on the rolled-back version)."),
    plan: Path | None = typer.Option(None, "--plan", help="Read the stack's outputs from this plan JSON."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile of the stack's account."),
    stacks_dir: Path | None = STACKS_DIR,
) -> None:
    """Serve the previous Approved version again; the current one becomes Rejected with the reason.

    A model the stack serves is released through the stack (as `mlp promote model` does); otherwise only
    modelVersions is recorded. A failure at any step puts everything back (exit 2).
    """
    from platform_lib.promotion import infra
    from platform_lib.promotion import model as promotion

    from .delivery import errors

    directory = stacks_dir or project_root() / "stacks"
    try:
        path = infra.stack_path(directory, stack)
    except infra.PromotionRefused as exc:
        fail(str(exc))
    current = infra.model_version(path, name)
    if current is None:
        fail(f"{path}: modelVersions has no {name!r}; nothing was promoted there to roll back")
    side, team, session = _side(stack, name, plan, profile)
    serving = _serving(stack, path, name, team, session, "mlp rollback")
    with errors(), _releasing(f"{stack}: {name} v{current} not rolled back", path):
        restored = promotion.rollback(side, current, _audit(), reason,
                                      serving or promotion.version_only(path, name),
                                      check=serving.servable if serving else None)
    console.print(f"{stack}: {name} v{current} rolled back to v{restored.version} (v{current} is Rejected)",
                  highlight=False)
    if serving is not None:
        _served(serving, path, name, restored.version)
    else:
        console.print(f"{stack} does not serve {name} from its stack (no ml-platform:serving.models entry): only "
                      f"{path} modelVersions.{name} = {restored.version} is recorded; commit it", markup=False,
                      highlight=False)
