"""Endpoints a team stack owns: `mlp deploy` goes through Pulumi, never around it.

When the team's stack file serves a model on SageMaker (``ml-platform:serving.models[]``), its endpoint
belongs to that stack: the blue/green rollout, alarms and autoscaling are Pulumi resources. Deploying an
approved version then means, in order:

1. **record** it in the stack file (ruamel round trip, comments kept): the served model's ``image`` and
   ``modelData`` become the version's, and ``modelVersions.<model>`` its number;
2. **check** the edited file with the offline plan (a copy of the stacks directory): an invalid config or
   a mandatory violation refuses the release and the stack file stays as it was;
3. **copy** the artifact from the primary region's models bucket to the models bucket of every other
   region the model is served in, re-encrypted with that region's models key;
4. **apply** it with ``pulumi up`` through Pulumi's Automation API when the Pulumi CLI is on PATH, or
   print the exact command when it is not.

``ship`` runs the four steps; `mlp deploy`, `mlp promote model` and `mlp rollback` all release through it.
Each step registers its undo in the caller's ``Undo`` before it acts: if a later step (or a later step of
the caller) fails, the stack file gets its old text back and the regional copies this run made are
deleted (copies that were already there are kept: an earlier release made them and may be serving them).

It never calls CreateEndpoint or UpdateEndpoint. An endpoint outside any stack (the dev sandbox) is
created and updated directly by the targets (``platform_lib.targets``).
"""

from __future__ import annotations

import functools
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_lib.config.loader import NAMESPACE, ConfigError, load_stack_file
from platform_lib.config.schema import TeamConfig
from platform_lib.config.schema.serving import ServedModel
from platform_lib.contract import TeamOutputs
from platform_lib.registry import Package

ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<path>.+)$")


class ReleaseRefused(Exception):
    """The release cannot go into the stack (bad version, plan refused); the stack file is unchanged."""


class ApplyFailed(Exception):
    """``pulumi up`` of the recorded release failed; ``command`` re-runs it."""

    def __init__(self, stack: str, command: str, cause: BaseException):
        super().__init__(f"pulumi up of {stack} failed: {cause}")
        self.command = command


@dataclass
class Undo:
    """What a run changed, put back in reverse order if a later step fails (``run``)."""

    steps: list[Callable[[], None]] = field(default_factory=list)

    def run(self) -> None:
        """Every step, newest first, even when one fails (the first failure is raised after the rest ran)."""
        failures: list[BaseException] = []
        for step in reversed(self.steps):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - put back as much as possible, then report
                failures.append(exc)
        self.steps.clear()
        if failures:
            raise failures[0]


@dataclass(frozen=True)
class Release:
    """What the stack file will say about a served model after the release."""

    stack: str
    model: str
    version: int
    image: str          # ECR repository path with tag or digest (the schema's ``image``)
    model_data: str     # key of model.tar.gz in the team's models bucket of each served region
    path: Path          # the stack file


@dataclass(frozen=True)
class Applied:
    """How the release was applied: by ``pulumi up`` (``result``), or ``command`` for the user to run."""

    command: str
    result: str | None = None   # the update's result ("succeeded") when the Automation API ran it


def owner(stack_file: Path, model: str, targets: tuple[str, ...] = ("sagemaker",)) -> ServedModel | None:
    """The stack's serving declaration of ``model`` on one of ``targets``, or None (then the endpoint is a
    sandbox's). `mlp deploy --target sagemaker` asks for SageMaker; a promotion or rollback for any target:
    a Kubernetes Deployment of the stack reads its ``image`` and ``modelData`` the same way."""
    try:
        config = load_stack_file(stack_file).config
    except ConfigError as exc:
        raise ReleaseRefused(str(exc)) from None
    if not isinstance(config, TeamConfig):
        return None
    return next((m for m in config.served.models if m.name == model and m.target in targets), None)


def release(stack: str, stack_file: Path, model: str, package: Package, team: TeamOutputs) -> Release:
    """The stack file's values for ``package``: its image as a repository path, its artifact as a key."""
    found = ECR_IMAGE.match(package.image)
    if found is None or found["account"] != team.account_id:
        raise ReleaseRefused(f"{package.group} version {package.version} runs {package.image!r}; the stack serves "
                             f"images of its account's ECR ({team.account_id}.dkr.ecr.<region>.amazonaws.com/...): "
                             f"register the version with that image")
    bucket, _, key = package.model_data_url.removeprefix("s3://").partition("/")
    primary = team.models_buckets.get(team.primary_region)
    if bucket != primary:
        raise ReleaseRefused(f"{package.group} version {package.version}'s artifact is in s3://{bucket}, not in the "
                             f"team's models bucket {primary}: the stack serves artifacts of that bucket")
    return Release(stack, model, package.version, found["path"], key, stack_file)


def missing_image(aws: Any, image: str) -> str | None:
    """Why the ECR image ``image`` (a full URI) is not in the registry of ``aws``'s account in the image's
    region, or None when it is there (the session is the account the image names: the target's)."""
    found = ECR_IMAGE.match(image)
    if found is None:
        return f"{image!r} is not an ECR image"
    repository, tag_or_digest = re.split(r"[:@]", found["path"], maxsplit=1)
    wanted = {"imageDigest": tag_or_digest} if "@" in found["path"] else {"imageTag": tag_or_digest}
    ecr = aws.client("ecr", found["region"])
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[wanted])
    except ecr.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return f"{found['path']} is not in the ECR of account {found['account']} in {found['region']} ({code})"
        raise
    return None


def copy_to_regions(aws: Any, team: TeamOutputs, served: ServedModel, key: str, undo: Undo | None = None) -> list[str]:
    """The artifact in the models bucket of every other region the model is served in (each under its
    regional models key, as the stack's endpoints read it); the regions it is now in.

    An object already there under the key with that region's key is kept (content-addressed keys: an
    earlier release put the same bytes there). A copy this run makes is deleted by ``undo``."""
    source = team.models_buckets[team.primary_region]
    copied = []
    for region in served.served_regions or [team.primary_region]:
        if region == team.primary_region:
            continue
        try:
            bucket, key_arn = team.models_buckets[region], team.key_arns["models"][region]
        except KeyError:
            raise ReleaseRefused(f"team {team.team} has no models bucket or key in {region}, where "
                                 f"{served.name} is served") from None
        s3 = aws.client("s3", region)
        copied.append(region)
        if _present(s3, bucket, key, key_arn):
            continue
        if undo is not None:   # before the call: a copy whose response is lost still happened
            undo.steps.append(functools.partial(s3.delete_object, Bucket=bucket, Key=key))
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": source, "Key": key},
                       ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn, BucketKeyEnabled=True,
                       MetadataDirective="COPY")
    return copied


def _present(s3: Any, bucket: str, key: str, key_arn: str) -> bool:
    try:
        return bool(s3.head_object(Bucket=bucket, Key=key).get("SSEKMSKeyId") == key_arn)
    except s3.exceptions.ClientError:
        return False


def edited_text(current: str, item: Release) -> str:
    """The stack file's text with the release recorded (serving declaration and modelVersions)."""
    from platform_lib.promotion import infra

    def edit(config: Any) -> None:
        models = (config.get(f"{NAMESPACE}:serving") or {}).get("models") or []
        entry = next((m for m in models if m.get("name") == item.model), None)
        if entry is None:
            raise ReleaseRefused(f"{item.path} does not serve {item.model!r} (ml-platform:serving.models)")
        entry["image"] = item.image
        entry["modelData"] = item.model_data
        infra.record_version(config, item.model, item.version)

    return infra.edited(current, edit)


def record(item: Release, stacks_dir: Path, plan_timeout: float = 600.0) -> str:
    """Write the release into the stack file once the offline plan of the edited file passes; the old text.

    Refused (file unchanged) when the edited file is invalid or the plan has a mandatory violation."""
    from platform_lib.promotion import infra

    old = item.path.read_text(encoding="utf-8")
    new = edited_text(old, item)
    planned = infra.plan_with(stacks_dir, item.path, new, timeout=plan_timeout)
    if planned.error:
        raise ReleaseRefused(f"{item.stack} with {item.model} v{item.version} does not plan; {item.path} is "
                             f"unchanged: {planned.error}")
    if planned.mandatory:
        rules = ", ".join(sorted({v.policy for v in planned.mandatory}))
        raise ReleaseRefused(f"{item.stack} with {item.model} v{item.version} breaks mandatory rules ({rules}); "
                             f"{item.path} is unchanged")
    infra.write_atomically(item.path, new)
    return old


def up_command(stack: str, root: Path, environment: str) -> list[str]:
    """The `pulumi up` that applies a team stack, gated by the policy pack (as ``.ci/deploy`` runs it)."""
    return ["pulumi", "up", "--stack", stack, "--cwd", str(root), "--policy-pack", str(root / "policies"),
            "--policy-pack-config", str(root / "policies" / "config" / f"{environment}.json")]


def apply(stack: str, root: Path, environment: str, say: Callable[[str], None], why: str = "mlp deploy") -> Applied:
    """``pulumi up`` of the stack through the Automation API when the CLI is on PATH; else the command."""
    command = shlex.join(up_command(stack, root, environment))
    if shutil.which("pulumi") is None:
        return Applied(command)
    from pulumi import automation

    selected = automation.select_stack(stack_name=stack, work_dir=str(root))
    result = selected.up(policy_packs=[str(root / "policies")],
                         policy_pack_configs=[str(root / "policies" / "config" / f"{environment}.json")],
                         on_output=say, message=f"{why}: {stack}")
    return Applied(command, result.summary.result)


@dataclass(frozen=True)
class Shipped:
    """A release recorded in its stack file, copied to the served regions, and applied (or its command)."""

    release: Release
    copied: list[str]
    applied: Applied


def ship(item: Release, served: ServedModel, aws: Any, team: TeamOutputs, root: Path, undo: Undo,
         say: Callable[[str], None], why: str = "mlp deploy", plan_timeout: float = 600.0) -> Shipped:
    """Record (plan-checked), copy to the other served regions, then apply; each step's undo in ``undo``.

    Raises ``ReleaseRefused`` (a refused plan, or a served region without a models bucket), ``ApplyFailed``
    or an AWS error; the caller runs ``undo`` on any failure, which puts the stack file's text back and
    deletes the copies this call made."""
    from platform_lib.promotion.infra import write_atomically

    say(f"{item.model} v{item.version} is served by stack {item.stack}: recording it in {item.path} and "
        f"checking the offline plan")
    old = record(item, item.path.parent, plan_timeout)
    undo.steps.append(lambda: write_atomically(item.path, old))
    copied = copy_to_regions(aws, team, served, item.model_data, undo)
    try:
        applied = apply(item.stack, root, team.environment, say, why)
    except Exception as exc:  # noqa: BLE001 - pulumi.automation's CommandError and anything under it
        raise ApplyFailed(item.stack, shlex.join(up_command(item.stack, root, team.environment)), exc) from exc
    return Shipped(item, copied, applied)
