"""Shapes every in-cluster object shares: metadata, and the security contexts of the restricted profile."""

from __future__ import annotations

from typing import Any

import pulumi

NON_ROOT: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
"""Pod security context of every workload that does not need root."""

RESTRICTED_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
    "capabilities": {"drop": ["ALL"]},
}
"""Container security context of the Kubernetes `restricted` Pod Security Standard."""

MANAGED_BY = {"app.kubernetes.io/managed-by": "pulumi-ml-platform"}


def meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None,
         annotations: dict[str, pulumi.Input[str]] | None = None) -> dict[str, Any]:
    """ObjectMeta with a fixed name (no auto-suffix: policies and users look objects up by name)."""
    metadata: dict[str, Any] = {"name": name, "labels": {**MANAGED_BY, **(labels or {})}}
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = annotations
    return metadata
