"""A stack's outputs, the only place the delivery plane learns where things are.

From ``pulumi stack output --json --stack S`` when the Pulumi CLI is on PATH (a deployed stack), else
from an offline plan's JSON (``mlp plan --json out/plan.json``: ``{"stacks": {S: {"outputs": ...}}}``).
Either way the mapping is parsed through the typed contract (``platform_lib.contract``), never retyped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from platform_lib.contract import Contract, ContractError, PlatformOutputs, TeamOutputs, parse

DEFAULT_PLAN = Path("out") / "plan.json"


class OutputsError(Exception):
    """Outputs that cannot be found or do not satisfy the contract (commands exit 2)."""


def project_root(start: Path | None = None) -> Path:
    """The nearest directory upwards holding Pulumi.yaml (else the current directory)."""
    here = (start or Path.cwd()).resolve()
    return next((c for c in (here, *here.parents) if (c / "Pulumi.yaml").is_file()), here)


def state_dir() -> Path:
    """Where the CLI keeps its records (training runs, local endpoints): ``MLP_STATE_DIR`` or ``out/``."""
    return Path(os.environ.get("MLP_STATE_DIR") or project_root() / "out")


def raw_outputs(stack: str, plan: Path | None = None) -> tuple[dict[str, Any], str]:
    """The stack's outputs as a mapping, and where they came from (for error messages).

    ``plan`` wins when given; otherwise the Pulumi CLI when installed, otherwise ``out/plan.json``.
    """
    if plan is None and shutil.which("pulumi"):
        return _from_pulumi(stack), f"`pulumi stack output --json --stack {stack}`"
    path = plan or project_root() / DEFAULT_PLAN
    return _from_plan(stack, path), f"stack {stack} in {path}"


def _from_pulumi(stack: str) -> dict[str, Any]:
    command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=project_root())
    if result.returncode != 0:
        raise OutputsError(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
    try:
        outputs = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise OutputsError(f"{' '.join(command)} printed no JSON: {exc}") from None
    if not outputs:
        raise OutputsError(f"stack {stack} has no outputs: run `pulumi up --stack {stack}` first")
    return outputs


def _from_plan(stack: str, path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise OutputsError(f"no plan file {path}: run `mlp plan --all --json {path}` (offline), or install "
                           f"the Pulumi CLI to read a deployed stack's outputs")
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise OutputsError(f"{path} is not JSON ({exc}); write it with `mlp plan --json {path}`") from None
    stacks = document.get("stacks") if isinstance(document, dict) else None
    if not isinstance(stacks, dict):
        raise OutputsError(f"{path} has no 'stacks' mapping; write it with `mlp plan --json {path}`")
    if stack not in stacks:
        raise OutputsError(f"unknown stack {stack!r} in {path}; stacks there: {', '.join(sorted(stacks)) or 'none'}")
    entry = stacks[stack]
    if entry.get("error"):
        raise OutputsError(f"stack {stack} failed to plan in {path}: {entry['error']}")
    return entry.get("outputs") or {}


def load(stack: str, plan: Path | None = None) -> PlatformOutputs | TeamOutputs:
    outputs, source = raw_outputs(stack, plan)
    model: type[Contract] = PlatformOutputs if outputs.get("kind") == "platform" else TeamOutputs
    try:
        return parse(model, outputs, source)  # type: ignore[return-value]
    except ContractError as exc:
        raise OutputsError(str(exc)) from None


def team(stack: str, plan: Path | None = None) -> TeamOutputs:
    """A team stack's outputs; a platform stack is refused with what to use instead."""
    outputs = load(stack, plan)
    if not isinstance(outputs, TeamOutputs):
        raise OutputsError(f"stack {stack} is a platform stack; models are delivered to a team stack "
                           f"(e.g. <team>-{outputs.environment})")
    return outputs


def platform(stack: str, plan: Path | None = None) -> PlatformOutputs:
    """The outputs of a platform stack, or of the platform stack a team stack is planned against."""
    outputs = load(stack, plan)
    if isinstance(outputs, PlatformOutputs):
        return outputs
    from platform_lib.config.loader import ConfigError, load_stack_file

    name = f"platform-{outputs.environment}"
    try:
        config = load_stack_file(project_root() / "stacks" / f"Pulumi.{stack}.yaml").config
        name = getattr(config, "platform_stack_name", name)
    except ConfigError:
        pass   # a stack without a file here (e.g. deployed from elsewhere) uses the default name
    found = load(name, plan)
    if not isinstance(found, PlatformOutputs):
        raise OutputsError(f"stack {name} (the platform of {stack}) is not a platform stack")
    return found


# What later contract fields provide, derived from the team's names until the registry and serving
# components export them (`<team>-<env>-<purpose>`, as infra/naming.py names everything).

def package_group(team: TeamOutputs, model: str) -> str:
    """The model package group of ``model``: the contract's when it exports one, else the naming rule."""
    groups: dict[str, str] | None = getattr(team, "model_package_groups", None)
    if groups is not None:
        if model not in groups:
            raise OutputsError(f"model {model!r} is not declared by team {team.team} ({team.environment}); "
                               f"declared: {', '.join(sorted(groups)) or 'none'}")
        return groups[model]
    return f"{team.team}-{team.environment}-{model}"


def sandbox_endpoint(team: TeamOutputs, model: str) -> str:
    """A dev endpoint outside any stack, created and updated by the library directly."""
    return f"{team.team}-{team.environment}-{model}-sandbox"


def models_location(team: TeamOutputs, region: str | None = None) -> tuple[str, str]:
    """(bucket, KMS key ARN) for model artifacts in ``region`` (the primary by default)."""
    region = region or team.primary_region
    try:
        return team.models_buckets[region], team.key_arns["models"][region]
    except KeyError:
        raise OutputsError(f"team {team.team} ({team.environment}) serves no models in {region}; serving "
                           f"regions: {', '.join(sorted(team.models_buckets))}") from None


def data_location(team: TeamOutputs, tier: str = "curated") -> tuple[str, str]:
    """(bucket, KMS key ARN) of a data-lake tier (in the primary region)."""
    try:
        return team.buckets[tier], team.key_arns["data"][team.primary_region]
    except KeyError:
        raise OutputsError(f"team {team.team} ({team.environment}) has no data tier {tier!r}; tiers: "
                           f"{', '.join(sorted(team.buckets))}") from None


def stack_tags(stack: str) -> dict[str, str]:
    """The tags Pulumi puts on the stack's resources (infra/naming.py), for what the library creates."""
    from infra.naming import tags
    from platform_lib.config.loader import ConfigError, load_stack_file

    path = project_root() / "stacks" / f"Pulumi.{stack}.yaml"
    try:
        config = load_stack_file(path).config
    except ConfigError as exc:
        raise OutputsError(f"cannot read the tags of stack {stack}: {exc}") from None
    return {**tags(config, stack), "managed-by": "mlp/ml-platform"}
