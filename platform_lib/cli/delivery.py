"""What the delivery commands share: options, the stack's outputs and session, targets, errors, output.

Exit codes: 0 done, 1 refused by the policy pack (mandatory violation), 2 anything else that is wrong
(unknown stack, outputs missing a key, unapproved model, stopped endpoint, oversize bundle ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from .common import console, fail
from .exit_codes import ExitCode

TargetName = Enum("TargetName", {n: n for n in ("local", "sagemaker", "kubernetes")}, type=str)  # type: ignore[misc]
progress_console = Console(stderr=True)

STACK = typer.Option(..., "--stack", "-s", help="Team stack whose outputs say where things go, e.g. fraud-dev.")
MODEL = typer.Option(..., "--model", "-m", help="The team's model name (its model package group).")
PLAN = typer.Option(None, "--plan", help="Read outputs from this plan JSON instead of Pulumi / out/plan.json.")
PROFILE = typer.Option(None, "--profile", help="AWS profile (default: the environment's credentials).")
JSON = typer.Option(False, "--json", help="Print one JSON document on stdout (progress goes to stderr).")
TARGET = typer.Option(TargetName("local"), "--target", "-t", help="Where to run: local, sagemaker or kubernetes.")


@dataclass
class Context:
    stack: str
    team: Any            # TeamOutputs
    aws: Any             # platform_lib.aws.Aws
    plan: Path | None
    json: bool

    def say(self, message: str) -> None:
        (progress_console if self.json else console).print(message, highlight=False, soft_wrap=True)


@contextmanager
def errors() -> Iterator[None]:
    """Library errors as clear messages and exit codes; nothing is printed as a traceback."""
    from platform_lib.bundle import BundleError
    from platform_lib.guard import PolicyViolation
    from platform_lib.monitoring import BaselineError
    from platform_lib.outputs import OutputsError
    from platform_lib.registry import RegistryError
    from platform_lib.targets.base import TargetError

    try:
        yield
    except PolicyViolation as exc:
        fail(str(exc), ExitCode.VIOLATIONS)
    except (OutputsError, BundleError, RegistryError, TargetError, BaselineError) as exc:
        fail(str(exc))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        fail(f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}")
    except BotoCoreError as exc:
        fail(f"AWS call failed: {exc}")


def context(stack: str, plan: Path | None, profile: str | None, as_json: bool) -> Context:
    from platform_lib import aws, outputs

    with errors():
        team = outputs.team(stack, plan)
    return Context(stack, team, aws.session(region=team.primary_region, profile=profile), plan, as_json)


def target(ctx: Context, name: TargetName, *, kubeconfig: Path | None = None, dry_run: bool = False,
           gpus: int = 0) -> Any:
    """The named target, configured from the stack (tags, platform network, namespace)."""
    from platform_lib import outputs

    with errors():
        tags = outputs.stack_tags(ctx.stack)
        if name.value == "local":
            from platform_lib.targets.local import LocalTarget

            return LocalTarget(ctx.aws, tags=tags, warn=ctx.say)
        if name.value == "sagemaker":
            from platform_lib.targets.sagemaker import SageMakerTarget

            return SageMakerTarget(ctx.aws, ctx.stack, outputs.platform(ctx.stack, ctx.plan), tags=tags, warn=ctx.say)
        from platform_lib.targets.kubernetes import KubernetesTarget, namespace_of

        clusters = outputs.platform(ctx.stack, ctx.plan).clusters
        return KubernetesTarget(ctx.aws, kubeconfig=kubeconfig, dry_run=dry_run, gpus=gpus, warn=ctx.say,
                                show=typer.echo, namespace=namespace_of(ctx.team),
                                allow_from_cidrs=tuple(sorted({c.vpc_cidr for c in clusters.values()})))


def jobs_dir() -> Path:
    from platform_lib.outputs import state_dir

    return state_dir() / "jobs"


def pairs(values: list[str], option: str) -> dict[str, str]:
    """``k=v`` options as a mapping; anything else is refused naming the option."""
    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            fail(f"{option} {value!r}: expected NAME=VALUE")
        found[key] = rest
    return found


def emit(ctx: Context, document: dict[str, Any], table: Table) -> None:
    if ctx.json:
        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        console.print(table)


def summary(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in rows.items():
        table.add_row(key, str(value))
    return table


def default_image(kind: str, target_name: TargetName, given: str | None) -> str:
    """The image for a job or endpoint: --image, else the local image name on the local target."""
    if given:
        return given
    if target_name.value == "local":
        return f"ml-{kind}:cpu"   # the local target runs the runtime itself; the name is recorded only
    fail(f"--image is required on the {target_name.value} target (the platform image's ECR URI)")
