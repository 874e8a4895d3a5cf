"""`mlp promote model` and `mlp rollback`: move an approved model version to the next environment, or back.

Gates, in order (each refuses with the cause; nothing is touched before all pass):
  1. the source package is ``Approved``;
  2. its metrics meet every threshold of the team's model declaration (a missing metric fails);
  3. the target stack's offline plan has no mandatory violations;
  4. the target's current rollout is healthy.
Then, each step idempotent (a re-run finds and reuses what an earlier run made): the artifact is copied
into the target's models bucket, re-encrypted with the target's key; an ``Approved`` package is created
in the target group in one request that carries the status and the audit record together (SageMaker
and moto would reset the status on a metadata-only update); then ``record`` makes the target serve it:
for a model the target stack serves, a release through the stack (``platform_lib.stack_release.ship``:
image, modelData and modelVersions in the stack file, plan-checked, the artifact copied to every served
region, ``pulumi up`` or its command); otherwise ``modelVersions.<model>`` only. A failure at any step
undoes what this run did (``Undo``), so the target is as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from platform_lib import registry, stack_release
from platform_lib.registry import APPROVED, REJECTED, Package
from platform_lib.stack_release import ECR_IMAGE, Undo

if TYPE_CHECKING:
    from platform_lib.config.schema.serving import ServedModel
    from platform_lib.contract import TeamOutputs

__all__ = ["Audit", "GateFailed", "Side", "StackRelease", "Undo", "check_gates", "promote", "rollback",
           "version_only"]

PROMOTION = "promotion."
"""Prefix of the audit record in a package's customer metadata: by, at, commit, from_stack, from_arn ..."""


class GateFailed(Exception):
    """A gate refused the promotion (exit 2); the message names the gate and the cause."""


class Gate(Protocol):
    """A threshold of a model declaration (``platform_lib.config.schema.models.Gate``): metric op threshold."""

    @property
    def metric(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def passes(self, value: float) -> bool: ...


@dataclass(frozen=True)
class Side:
    """One environment of a promotion: its registry client, S3 client, package group and models location."""

    stack: str
    sm: Any
    s3: Any
    group: str
    bucket: str          # the models bucket of its primary region
    key_arn: str
    account_id: str | None = None
    region: str | None = None   # its primary region


def promoted_image(image: str, account_id: str | None, region: str | None) -> str:
    """The image the target serves for ``image``: the same ECR repository path and tag in the target
    account's registry of its primary region (CI pushes each release to every environment's registry);
    an image that is not in ECR, or a target without account and region, keeps ``image``."""
    found = ECR_IMAGE.match(image)
    if found is None or account_id is None or region is None:
        return image
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{found['path']}"


@dataclass(frozen=True)
class Audit:
    """Who promotes, from which commit, and when (UTC, ISO 8601)."""

    actor: str
    commit: str
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def check_gates(package: Package, gates: Iterable[Gate], *, plan_mandatory: int,
                rollout_healthy: tuple[bool, str]) -> None:
    """Raise ``GateFailed`` on the first gate that refuses."""
    if package.status != APPROVED:
        raise GateFailed(f"{package.group} version {package.version} is {package.status} in the source "
                         f"environment; only Approved versions are promoted")
    for gate in gates:
        value = package.metrics.get(gate.metric)
        if value is None:
            raise GateFailed(f"{package.group} version {package.version} has no metric {gate.metric!r}, "
                             f"gated by '{gate}'; metrics: {', '.join(sorted(package.metrics)) or 'none'}")
        if not gate.passes(value):
            raise GateFailed(f"{package.group} version {package.version}: {gate.metric} = {value:g} fails the "
                             f"threshold '{gate}' of the model declaration")
    if plan_mandatory:
        raise GateFailed(f"the target stack's plan has {plan_mandatory} mandatory violation(s): `mlp plan` it")
    healthy, why = rollout_healthy
    if not healthy:
        raise GateFailed(f"the target's current rollout is not healthy: {why}")


def copy_artifact(source: Side, target: Side, package: Package, undo: Undo) -> str:
    """The artifact in the target's models bucket, encrypted with the target key; its s3:// URL."""
    src_bucket, _, src_key = package.model_data_url.removeprefix("s3://").partition("/")
    key = f"promoted/{target.group}/{source.stack}-v{package.version}/{src_key.rsplit('/', 1)[-1]}"
    url = f"s3://{target.bucket}/{key}"
    try:
        head = target.s3.head_object(Bucket=target.bucket, Key=key)
        if head.get("SSEKMSKeyId") == target.key_arn:
            return url  # an earlier run copied it
    except target.s3.exceptions.ClientError:
        pass
    # Undo first: a copy whose response is lost still happened (deleting an absent key is a no-op).
    undo.steps.append(lambda: target.s3.delete_object(Bucket=target.bucket, Key=key))
    target.s3.copy_object(Bucket=target.bucket, Key=key, CopySource={"Bucket": src_bucket, "Key": src_key},
                          ServerSideEncryption="aws:kms", SSEKMSKeyId=target.key_arn, BucketKeyEnabled=True,
                          MetadataDirective="COPY")
    return url


def promoted_from(target: Side, source_arn: str) -> Package | None:
    for candidate in registry.list_packages(target.sm, target.group):
        if candidate.metadata.get(f"{PROMOTION}from_arn") == source_arn:
            return candidate
    return None


def register_in_target(source: Side, target: Side, package: Package, model_data_url: str, audit: Audit,
                       undo: Undo) -> Package:
    """An Approved package in the target group, with the source's metrics and lineage and the audit record."""
    existing = promoted_from(target, package.arn)
    if existing is not None:
        return existing
    record = {f"{PROMOTION}by": audit.actor, f"{PROMOTION}at": audit.at, f"{PROMOTION}commit": audit.commit,
              f"{PROMOTION}from_stack": source.stack, f"{PROMOTION}from_arn": package.arn,
              f"{PROMOTION}from_version": str(package.version), f"{PROMOTION}from_image": package.image}
    metadata = {**package.metadata, **record}
    if len(metadata) > 50:
        raise GateFailed(f"{package.group} version {package.version} has {len(package.metadata)} metadata "
                         f"properties; with the promotion record SageMaker's limit of 50 is exceeded")

    def remove() -> None:  # found by its record: the create may have happened with its response lost
        made = promoted_from(target, package.arn)
        if made is not None:
            target.sm.delete_model_package(ModelPackageName=made.arn)

    undo.steps.append(remove)
    request = create_request(target.group, package, model_data_url, metadata, audit,
                             image=promoted_image(package.image, target.account_id, target.region))
    arn = target.sm.create_model_package(**request)["ModelPackageArn"]
    return registry.describe(target.sm, arn)


def create_request(group: str, package: Package, model_data_url: str, metadata: Mapping[str, str],
                   audit: Audit, image: str | None = None) -> dict[str, Any]:
    """The CreateModelPackage request: status and metadata in the same call."""
    return {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": (f"promoted from {package.arn} by {audit.actor} at {audit.at} "
                                    f"from commit {audit.commit}")[:1024],
        "InferenceSpecification": {
            "Containers": [{"Image": image or package.image, "ModelDataUrl": model_data_url,
                            "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}],
            "SupportedContentTypes": registry.CONTENT_TYPES, "SupportedResponseMIMETypes": ["application/json"],
        },
        "ModelApprovalStatus": APPROVED,
        "CustomerMetadataProperties": dict(metadata),
        "MetadataProperties": {"CommitId": audit.commit[:1024], "GeneratedBy": "mlp promote model"},
        "ClientToken": hashlib.sha256(f"{package.arn} {group}".encode()).hexdigest()[:36],  # retries: one package
    }


Record = Callable[[Package, Undo], None]
"""Makes the target serve a package (stack file, regional copies, apply), each change's undo in ``Undo``."""


def promote(source: Side, target: Side, package: Package, gates: Iterable[Gate], audit: Audit, *,
            plan_mandatory: int, rollout_healthy: tuple[bool, str], record: Record,
            check: Callable[[Package], None] | None = None) -> Package:
    """Gate (and ``check``), copy, register, then ``record`` the promoted package; undone on any failure."""
    check_gates(package, gates, plan_mandatory=plan_mandatory, rollout_healthy=rollout_healthy)
    if check is not None:
        check(package)
    undo = Undo()
    try:
        url = copy_artifact(source, target, package, undo)
        promoted = register_in_target(source, target, package, url, audit, undo)
        record(promoted, undo)
    except BaseException:
        undo.run()
        raise
    return promoted


def rollback(target: Side, current_version: int, audit: Audit, reason: str, record: Record,
             check: Callable[[Package], None] | None = None) -> Package:
    """Serve the newest Approved version older than ``current_version``: after ``check`` of that version,
    the current one becomes Rejected with the rollback record (status and metadata in one update), then
    ``record`` makes the target serve the previous one; if that fails, the current version's status and
    metadata are put back with what ``record`` undoes."""
    packages = registry.list_packages(target.sm, target.group)
    current = next((p for p in packages if p.version == current_version), None)
    if current is None:
        raise GateFailed(f"{target.group} has no version {current_version} (the version {target.stack} serves)")
    previous = [p for p in packages if p.version < current_version and p.status == APPROVED]
    if not previous:
        raise GateFailed(f"{target.group} has no Approved version before {current_version}: nothing to roll back to")
    restored = previous[-1]
    if check is not None:
        check(restored)
    undo = Undo()
    try:
        if current.status != REJECTED:
            note = {"rollback.by": audit.actor, "rollback.at": audit.at, "rollback.commit": audit.commit,
                    "rollback.to_version": str(restored.version)}
            undo.steps.append(lambda: set_status(target.sm, current, current.status, current.approval_description,
                                                 current.metadata))
            set_status(target.sm, current, REJECTED, f"rolled back: {reason}", {**current.metadata, **note})
        record(restored, undo)
    except BaseException:
        undo.run()
        raise
    return restored


def version_only(path: Path, model: str) -> Record:
    """``record`` for a model the target stack does not serve (no serving declaration): only
    ``modelVersions.<model>`` is written; what serves the model is outside the stack."""
    from platform_lib.promotion import infra

    def record(package: Package, undo: Undo) -> None:
        old = path.read_text(encoding="utf-8")
        infra.set_model_version(path, model, package.version)   # written atomically: all or nothing
        undo.steps.append(lambda: infra.write_atomically(path, old))

    return record


@dataclass
class StackRelease:
    """``record`` for a model the target stack serves: the package is released through the stack, as
    `mlp deploy` does (``stack_release.ship``); ``shipped`` says what happened."""

    stack: str
    path: Path                    # the target's stack file
    model: str
    served: ServedModel           # its serving declaration there
    aws: Any                      # the target account's session (``platform_lib.aws.Aws``)
    team: TeamOutputs
    root: Path                    # the Pulumi project the stack file belongs to
    say: Callable[[str], None]
    why: str                      # the update message: "mlp promote model", "mlp rollback"
    shipped: stack_release.Shipped | None = None

    def promotable(self, package: Package) -> None:
        """Before anything is copied: the stack can serve the source's image, and the target account's ECR
        has it (CI pushes each release to every environment's registry)."""
        if ECR_IMAGE.match(package.image) is None:
            raise GateFailed(f"{package.group} version {package.version} runs {package.image!r}, not an ECR image; "
                             f"{self.stack} serves {self.model} from its account's ECR (serving.models[].image)")
        self._pullable(promoted_image(package.image, self.team.account_id, self.team.primary_region))

    def servable(self, package: Package) -> None:
        """Before anything changes (rollback): the version's image and artifact are the target's own, and
        the image is still in its ECR (a lifecycle policy may have expired it)."""
        try:
            stack_release.release(self.stack, self.path, self.model, package, self.team)
        except stack_release.ReleaseRefused as exc:
            raise GateFailed(str(exc)) from None
        self._pullable(package.image)

    def _pullable(self, image: str) -> None:
        why = stack_release.missing_image(self.aws, image)
        if why is not None:
            raise GateFailed(f"{self.stack} cannot serve it: {why}; push the image there first")

    def __call__(self, package: Package, undo: Undo) -> None:
        item = stack_release.release(self.stack, self.path, self.model, package, self.team)
        self.shipped = stack_release.ship(item, self.served, self.aws, self.team, self.root, undo, self.say, self.why)


def set_status(sm: Any, package: Package, status: str, description: str, metadata: Mapping[str, str]) -> None:
    """Status and the complete metadata in one UpdateModelPackage (see ``platform_lib.registry``)."""
    sm.update_model_package(ModelPackageArn=package.arn, ModelApprovalStatus=status,
                            ApprovalDescription=description[:1024], CustomerMetadataProperties=dict(metadata))


def endpoint_health(sm: Any, endpoint: str) -> tuple[bool, str]:
    """(healthy?, why) of the target's endpoint: InService, or none yet (a first promotion)."""
    try:
        status = sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
    except sm.exceptions.ClientError as exc:
        if "not found" in str(exc).lower() or "could not find" in str(exc).lower():
            return True, f"no endpoint {endpoint} yet"
        raise
    return status == "InService", f"endpoint {endpoint} is {status}"
