"""Model packages in the team's SageMaker model package groups: register, list, approve, reject, annotate.

A package carries its metrics and its lineage (data hash, git revision, image digest, source bundle and
model artifact hashes) as customer metadata, starts as ``PendingManualApproval``, and only an
``Approved`` package is deployable. Every update sends the approval status *and* the complete metadata:
SageMaker merges, but moto resets the status on a metadata-only update and drops the metadata on a
status-only one, so a request that states both is right everywhere (promotion reuses ``annotate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"
METRIC, LINEAGE = "metric.", "lineage."
LINEAGE_KEYS = ("data_sha256", "git_revision", "image_digest", "source_sha256", "model_sha256")
CONTENT_TYPES = ["application/json", "text/csv"]
_META_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")


class RegistryError(Exception):
    """A package that does not exist, is not deployable, or metadata SageMaker would refuse."""


@dataclass(frozen=True)
class Package:
    arn: str
    group: str
    version: int
    status: str
    image: str
    model_data_url: str
    metrics: dict[str, float] = field(default_factory=dict)
    lineage: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    approval_description: str = ""
    created: str = ""

    @classmethod
    def from_description(cls, d: Mapping[str, Any]) -> Package:
        metadata = dict(d.get("CustomerMetadataProperties") or {})
        container = (d.get("InferenceSpecification") or {}).get("Containers", [{}])[0]
        return cls(
            arn=d["ModelPackageArn"], group=d.get("ModelPackageGroupName", ""),
            version=int(d.get("ModelPackageVersion") or 0), status=d.get("ModelApprovalStatus", ""),
            image=container.get("Image", ""), model_data_url=container.get("ModelDataUrl", ""),
            metrics={k.removeprefix(METRIC): float(v) for k, v in metadata.items() if k.startswith(METRIC)},
            lineage={k.removeprefix(LINEAGE): v for k, v in metadata.items() if k.startswith(LINEAGE)},
            metadata=metadata, approval_description=d.get("ApprovalDescription") or "",
            created=str(d.get("CreationTime", "")),
        )

    def as_json(self) -> dict[str, Any]:
        return {"arn": self.arn, "group": self.group, "version": self.version, "status": self.status,
                "image": self.image, "modelDataUrl": self.model_data_url, "metrics": self.metrics,
                "lineage": self.lineage, "approvalDescription": self.approval_description}


def _metadata(metrics: Mapping[str, float], lineage: Mapping[str, str]) -> dict[str, str]:
    unknown = set(lineage) - set(LINEAGE_KEYS)
    if unknown:
        raise RegistryError(f"unknown lineage key(s) {sorted(unknown)}; allowed: {', '.join(LINEAGE_KEYS)}")
    properties = {f"{METRIC}{k}": f"{float(v):.6g}" for k, v in metrics.items()}
    properties |= {f"{LINEAGE}{k}": str(v) for k, v in lineage.items()}
    _check_metadata(properties)
    return properties


def _check_metadata(properties: Mapping[str, str]) -> None:
    if len(properties) > 50:
        raise RegistryError(f"{len(properties)} metadata properties; SageMaker allows 50")
    for key, value in properties.items():
        if not _META_KEY.match(key) or len(value) > 256:
            raise RegistryError(f"metadata {key!r}={value[:40]!r}: keys are 1-128 of letters, digits and "
                                f"_.:/=+-@, values at most 256 characters")


def package_request(group: str, *, image: Any, model_data_url: Any, description: str = "",
                    properties: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``CreateModelPackage`` request of a ``PendingManualApproval`` version (also a pipeline's RegisterModel
    step's arguments, where ``model_data_url`` is a property reference of the training step)."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": description[:1024],
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": model_data_url,
                            "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}],
            "SupportedContentTypes": CONTENT_TYPES, "SupportedResponseMIMETypes": ["application/json"],
        },
        "ModelApprovalStatus": PENDING,
    }
    if properties:
        request["CustomerMetadataProperties"] = dict(properties)
    return request


def register(sm: Any, group: str, *, image: str, model_data_url: str, metrics: Mapping[str, float],
             lineage: Mapping[str, str], description: str = "", commit: str | None = None) -> tuple[Package, bool]:
    """A new ``PendingManualApproval`` version in ``group``; (package, created?).

    The same model artifact (``lineage['model_sha256']``) registered again returns its existing version.
    """
    properties = _metadata(metrics, lineage)
    model_sha = lineage.get("model_sha256")
    if model_sha:
        for package in list_packages(sm, group):
            if package.lineage.get("model_sha256") == model_sha:
                return package, False
    request = package_request(group, image=image, model_data_url=model_data_url, description=description,
                              properties=properties)
    if model_sha:
        request["ClientToken"] = model_sha[:36]   # SageMaker's own idempotency on retries
    if commit:
        request["MetadataProperties"] = {"CommitId": commit[:1024], "GeneratedBy": "mlp register"}
    arn = sm.create_model_package(**request)["ModelPackageArn"]
    return describe(sm, arn), True


def describe(sm: Any, arn: str) -> Package:
    try:
        return Package.from_description(sm.describe_model_package(ModelPackageName=arn))
    except sm.exceptions.ClientError as exc:
        raise RegistryError(f"no model package {arn}: {exc.response['Error'].get('Message', '')}") from None


def list_packages(sm: Any, group: str) -> list[Package]:
    """Every version in ``group``, oldest first (SageMaker's list omits metadata: each is described)."""
    arns: list[str] = []
    try:
        for page in sm.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
            arns += [s["ModelPackageArn"] for s in page["ModelPackageSummaryList"]]
    except sm.exceptions.ClientError as exc:
        raise RegistryError(f"cannot list model package group {group}: {exc}") from None
    return sorted((describe(sm, arn) for arn in arns), key=lambda p: p.version)


def find(sm: Any, group: str, version: int | None = None) -> Package:
    """Version ``version`` of ``group``, or its newest."""
    packages = list_packages(sm, group)
    if not packages:
        raise RegistryError(f"model package group {group} has no versions: run `mlp register` first")
    if version is None:
        return packages[-1]
    for package in packages:
        if package.version == version:
            return package
    raise RegistryError(f"{group} has no version {version}; versions: {', '.join(str(p.version) for p in packages)}")


def _update(sm: Any, package: Package, status: str, description: str, metadata: Mapping[str, str]) -> Package:
    _check_metadata(metadata)
    sm.update_model_package(ModelPackageArn=package.arn, ModelApprovalStatus=status,
                            ApprovalDescription=description[:1024], CustomerMetadataProperties=dict(metadata))
    return describe(sm, package.arn)


def approve(sm: Any, package: Package, note: str = "") -> Package:
    return _update(sm, package, APPROVED, note or package.approval_description, package.metadata)


def reject(sm: Any, package: Package, note: str) -> Package:
    if not note:
        raise RegistryError("a rejection needs a reason (--reason)")
    return _update(sm, package, REJECTED, note, package.metadata)


def annotate(sm: Any, package: Package, properties: Mapping[str, str]) -> Package:
    """Add metadata (e.g. promotion records) keeping the approval status and the existing metadata."""
    return _update(sm, package, package.status, package.approval_description, {**package.metadata, **properties})


def require_approved(package: Package) -> Package:
    if package.status != APPROVED:
        raise RegistryError(f"{package.group} version {package.version} is {package.status}, not Approved: "
                            f"run `mlp models approve` after review (only approved versions are deployed)")
    return package


def latest_approved(sm: Any, group: str) -> Package:
    """The newest ``Approved`` version of ``group`` (what a deploy without ``--version`` ships)."""
    packages = list_packages(sm, group)
    approved = [p for p in packages if p.status == APPROVED]
    if not approved:
        states = ", ".join(f"v{p.version} {p.status}" for p in packages) or "no versions"
        raise RegistryError(f"{group} has no approved version ({states}): approve one with `mlp models approve`")
    return approved[-1]
