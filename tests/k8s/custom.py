"""What kubernetes-validate cannot check, checked against the upstream project's own published files
(vendored under `vendor/`, with their licence and source commit):

- TargetGroupBinding (a CRD of the AWS Load Balancer Controller): its `spec` against the CRD's
  openAPIV3Schema with jsonschema, strict as the API server's `fieldValidation=Strict` (an unknown field
  fails), and its `metadata` as an ObjectMeta through kubernetes-validate;
- the controller's Helm release: the chart and version pinned in `infra/versions.py` are the vendored
  chart's, and every value we set is a key of the chart's `values.yaml` (a misspelt key would be ignored
  by Helm without a word).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

VENDOR = Path(__file__).parent / "vendor" / "aws-load-balancer-controller"
CHART_VERSION = "3.5.0"          # the vendored values.yaml's chart (its header)
FREE_FORM = ("annotations", "nodeSelector", "resources", "podDisruptionBudget", "featureGates", "podLabels")


@cache
def crd_schema(version: str) -> dict[str, Any]:
    crd = yaml.safe_load((VENDOR / "elbv2.k8s.aws_targetgroupbindings.yaml").read_text())
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    return _strict(served["schema"]["openAPIV3Schema"])


def _strict(schema: Any) -> Any:
    """Structural schema -> JSON schema that refuses unknown fields (as kubectl's strict validation)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _strict(value) for key, value in schema.items() if not key.startswith("x-kubernetes-")}
    if "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        result["additionalProperties"] = False
    return result


def validate_target_group_binding(obj: dict[str, Any], kubernetes_version: str) -> None:
    """Raise jsonschema.ValidationError or kubernetes_validate.ValidationError."""
    group, version = obj["apiVersion"].split("/")
    assert group == "elbv2.k8s.aws" and obj["kind"] == "TargetGroupBinding", obj["apiVersion"]
    jsonschema.validate(obj, crd_schema(version))
    kubernetes_validate.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]},
                                 f"{kubernetes_version}.0", strict=True)


def check_release(inputs: dict[str, Any], chart: str, version: str) -> list[str]:
    """Problems of a Helm release of the controller's chart: wrong chart or version, unknown values."""
    problems = []
    if inputs.get("chart") != chart or inputs.get("version") != version or version != CHART_VERSION:
        problems.append(f"chart {inputs.get('chart')}@{inputs.get('version')}, vendored {chart}@{CHART_VERSION}")
    defaults = yaml.safe_load((VENDOR / "values.yaml").read_text())
    problems += _unknown_keys(inputs.get("values") or {}, defaults, "values")
    return problems


def _unknown_keys(values: dict[str, Any], defaults: dict[str, Any], path: str) -> list[str]:
    problems = []
    for key, value in values.items():
        if key not in defaults:
            problems.append(f"{path}.{key} is not a value of the chart")
        elif isinstance(value, dict) and isinstance(defaults[key], dict) and key not in FREE_FORM:
            problems += _unknown_keys(value, defaults[key], f"{path}.{key}")
    return problems
