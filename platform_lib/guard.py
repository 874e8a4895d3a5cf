"""No path around the policies: what the library creates outside Pulumi is checked by the same pack first.

Each request (a SageMaker training job, model, endpoint config, endpoint; a Kubernetes Job, Deployment,
Service, HPA; an S3 object) is mapped to the Pulumi resource type and inputs that would create the same
thing (``aws:sagemaker/model:Model``, ``kubernetes:apps/v1:Deployment`` ...), and every resource rule of
``policies/`` runs on it at the target environment's levels (``policies/config/<env>.json``), exactly as
``mlp plan`` runs them. A mandatory violation raises ``PolicyViolation`` before any call is made.
SageMaker training jobs have no pulumi-aws resource; they are checked as ``TRAINING_JOB_TYPE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TRAINING_JOB_TYPE = "aws:sagemaker/trainingJob:TrainingJob"   # no pulumi-aws resource: a library-made token


class PolicyViolation(Exception):
    """Mandatory violations of the policy pack (commands exit 1)."""

    def __init__(self, violations: list[Any]):
        self.violations = violations
        lines = [f"{v.rule} ({v.level}) on {v.type} {v.name}: {v.message}" for v in violations]
        super().__init__("refused by the policy pack, nothing was created:\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class Request:
    """One thing about to be created, as the Pulumi resource that would create it."""

    type: str
    name: str
    inputs: dict[str, Any]
    region: str | None = None
    default_tags: dict[str, str] = field(default_factory=dict)


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def camel_inputs(value: Any) -> Any:
    """An AWS API request (PascalCase) as Pulumi inputs (camelCase); ``Tags`` lists become a map."""
    if isinstance(value, dict):
        return {_camel(k): (tags_map(v) if k == "Tags" else camel_inputs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_inputs(v) for v in value]
    return value


def tags_map(tags: list[dict[str, str]] | dict[str, str] | None) -> dict[str, str]:
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags or []}


def check(requests: list[Request], environment: str) -> list[Any]:
    """Every violation of the pack's resource rules on ``requests`` at ``environment``'s levels."""
    from platform_lib.plan.capture import CapturedResource
    from platform_lib.plan.policy_run import evaluate

    resources = []
    for index, request in enumerate(requests):
        provider_urn = None
        if request.type.startswith("aws:"):
            provider_urn = f"urn:pulumi:delivery::ml-platform::pulumi:providers:aws::request-{index}"
            resources.append(CapturedResource(
                type="pulumi:providers:aws", name=f"request-{index}", urn=provider_urn, parent=None, provider=None,
                custom=True, inputs={"region": request.region or "", "defaultTags": {"tags": request.default_tags}}))
        safe = re.sub(r"[^A-Za-z0-9_.-]", "-", request.name)
        resources.append(CapturedResource(
            type=request.type, name=request.name, urn=f"urn:pulumi:delivery::ml-platform::{request.type}::{safe}",
            parent=None, provider=provider_urn, custom=True, inputs=request.inputs))
    violations = evaluate(resources, environment)
    return [v for v in violations if not (v.type or "").startswith("pulumi:providers:")]


def enforce(requests: list[Request], environment: str, warn: Any = None) -> list[Any]:
    """Raise ``PolicyViolation`` on mandatory violations; hand advisory ones to ``warn``."""
    found = check(requests, environment)
    mandatory = [v for v in found if v.level == "mandatory"]
    if mandatory:
        raise PolicyViolation(mandatory)
    for violation in found:
        if warn is not None:
            warn(f"policy {violation.rule} (advisory) on {violation.name}: {violation.message}")
    return found
