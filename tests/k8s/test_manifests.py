"""Every Kubernetes object of every example stack, as planned, is valid for the cluster's pinned version
(kubernetes-validate, strict: unknown fields fail; an unknown apiVersion or kind fails too)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from infra import versions

STACKS = ["platform-dev", "platform-prod", "fraud-dev", "fraud-prod", "vision-dev", "vision-prod"]


def manifest(resource_type: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The object as the provider sends it: apiVersion and kind from the Pulumi type, then the inputs."""
    group_version, kind = resource_type.split(":")[1:]
    api_version = group_version.removeprefix("core/")
    assert inputs.get("apiVersion", api_version) == api_version and inputs.get("kind", kind) == kind
    return {**inputs, "apiVersion": api_version, "kind": kind}


def validate(obj: dict[str, Any], kubernetes_version: str) -> None:
    """Raise if the object is invalid or its schema is unknown for the version."""
    kubernetes_validate.validate(obj, f"{kubernetes_version}.0", strict=True)


def cluster_version(plans, stack: str) -> str:
    plan = plans[stack].plan
    clusters = plan.outputs.get("clusters") or plans[f"platform-{plan.environment}"].plan.outputs["clusters"]
    found = {c["kubernetesVersion"] for c in clusters.values()}
    assert len(found) == 1
    return found.pop()


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_is_valid(plans, stack):
    version = cluster_version(plans, stack)
    objects = [r for r in plans[stack].resources
               if r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:providers:")]
    assert objects, f"{stack} plans no Kubernetes objects"
    failures = []
    for resource in objects:
        try:
            validate(manifest(resource.type, resource.inputs), version)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.InvalidSchemaError) as error:
            failures.append(f"{resource.type} {resource.name}: {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)


def test_pinned_version_has_bundled_schemas():
    validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, versions.KUBERNETES_VERSION)


def test_harness_refuses_unknown_fields_and_kinds():
    with pytest.raises(kubernetes_validate.ValidationError):
        validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "date": {}}, "1.32")
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "x"}}, "1.32")
    with pytest.raises(kubernetes_validate.ValidationError):   # a toleration with a misspelt field
        validate(manifest("kubernetes:core/v1:Pod", {"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "c", "image": "i"}], "tolerations": [{"keys": "nvidia.com/gpu"}]}}), "1.32")
