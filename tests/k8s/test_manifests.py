"""Every Kubernetes object of every example stack, as planned, is valid for the cluster's pinned version
(kubernetes-validate, strict: unknown fields fail; an unknown apiVersion or kind fails too). The AWS Load
Balancer Controller's TargetGroupBinding and Helm release are checked against its published CRD and chart
values (`custom.py`)."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from infra import versions
from infra.components.lb_controller import NAME as CONTROLLER_CHART
from tests.k8s.custom import check_release, validate_target_group_binding

BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
RELEASE = "kubernetes:helm.sh/v3:Release"

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
        if resource.type == RELEASE:
            failures += [f"{resource.name}: {problem}" for problem in check_release(
                resource.inputs, CONTROLLER_CHART, versions.LOAD_BALANCER_CONTROLLER_CHART)]
            continue
        try:
            if resource.type == BINDING:
                validate_target_group_binding(manifest(resource.type, resource.inputs), version)
            else:
                validate(manifest(resource.type, resource.inputs), version)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.InvalidSchemaError, jsonschema.ValidationError) as error:
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


def test_target_group_binding_harness_refuses_unknown_fields_and_bad_values():
    spec: dict[str, Any] = {"serviceRef": {"name": "defects", "port": 80}, "targetType": "ip",
                            "targetGroupARN": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/y"}
    good: dict[str, Any] = {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
                            "metadata": {"name": "defects", "namespace": "vision"}, "spec": spec}
    validate_target_group_binding(good, "1.32")
    for bad in ({**spec, "targetType": "pod"}, {**spec, "serviceref": {"name": "x"}},
                {"targetGroupARN": spec["targetGroupARN"]}):   # serviceRef is required
        with pytest.raises(jsonschema.ValidationError):
            validate_target_group_binding({**good, "spec": bad}, "1.32")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_target_group_binding({**good, "metadata": {"name": "x", "labelz": {}}}, "1.32")


def test_release_check_names_a_misspelt_value():
    inputs = {"chart": CONTROLLER_CHART, "version": versions.LOAD_BALANCER_CONTROLLER_CHART,
              "values": {"clusterName": "c", "serviceAccount": {"create": True, "nmae": "x"}, "enableShild": False}}
    assert check_release(inputs, CONTROLLER_CHART, versions.LOAD_BALANCER_CONTROLLER_CHART) == [
        "values.serviceAccount.nmae is not a value of the chart", "values.enableShild is not a value of the chart"]
