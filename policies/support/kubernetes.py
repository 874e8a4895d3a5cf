"""Kubernetes objects as the rules see them: workloads, their pod templates, containers, tolerations.

Pulumi types are ``kubernetes:<group>/<version>:<Kind>``; inputs are the object's camelCase fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .unknowns import as_list, as_number, is_known, props_of

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT = "NoSchedule"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
SYSTEM_NAMESPACES = ("kube-system",)
"""Namespaces of the platform's node agents (device plugin, DCGM): no team can deploy there."""

_EKS_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}

# Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "core/v1:Pod": ("spec",),
    "apps/v1:Deployment": ("spec", "template", "spec"),
    "apps/v1:StatefulSet": ("spec", "template", "spec"),
    "apps/v1:DaemonSet": ("spec", "template", "spec"),
    "apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "core/v1:ReplicationController": ("spec", "template", "spec"),
    "batch/v1:Job": ("spec", "template", "spec"),
    "batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_TYPES = frozenset(f"kubernetes:{kind}" for kind in POD_SPEC_PATHS)


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping (after :func:`plain`), else an empty dict."""
    return value if isinstance(value, dict) else {}


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload's inputs; None for other types or when not (yet) known."""
    path = POD_SPEC_PATHS.get(resource_type.removeprefix("kubernetes:"))
    value: Any = props
    for key in path or ():
        value = value.get(key) if isinstance(value, dict) else None
    return value if path and isinstance(value, dict) else None


def containers(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in as_list(spec.get(key)) if isinstance(c, dict))


def gpu_request(spec: Mapping[str, Any]) -> float:
    """`nvidia.com/gpu` the pod asks for (requests or limits of any container)."""
    total = 0.0
    for container in containers(spec):
        resources = mapping(container.get("resources"))
        asked = [as_number(mapping(resources.get(kind)).get(GPU_RESOURCE)) for kind in ("limits", "requests")]
        total += max([a for a in asked if a is not None] or [0.0])
    return total


def namespace_of(props: Mapping[str, Any]) -> str:
    namespace = mapping(props.get("metadata")).get("namespace")
    return namespace if isinstance(namespace, str) and is_known(namespace) and namespace else "default"


def object_name(resource: Any) -> str:
    """`<namespace>/<name>` of a Kubernetes object, else its logical name."""
    props = props_of(resource)
    metadata = mapping(props.get("metadata"))
    name = metadata.get("name")
    if isinstance(name, str) and is_known(name):
        return f"{namespace_of(props)}/{name}" if metadata.get("namespace") else name
    return resource.name


def tolerates(tolerations: Any, key: str, value: str, effect: str) -> bool:
    """Whether a toleration list tolerates the taint `key=value:effect` (Kubernetes' matching rules)."""
    for toleration in as_list(tolerations):
        if not isinstance(toleration, dict):
            continue
        t_effect = toleration.get("effect") or ""
        if t_effect and t_effect != effect:
            continue
        operator = toleration.get("operator") or "Equal"
        t_key = toleration.get("key") or ""
        if operator == "Exists" and (not t_key or t_key == key):
            return True
        if operator == "Equal" and t_key == key and (toleration.get("value") or "") == value:
            return True
    return False


def node_group_taints(props: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(key, value, Kubernetes effect) of a managed node group's taints."""
    found = []
    for taint in as_list(props.get("taints")):
        if isinstance(taint, dict) and isinstance(taint.get("key"), str):
            effect = str(taint.get("effect") or "")
            found.append((taint["key"], str(taint.get("value") or ""), _EKS_EFFECTS.get(effect, effect)))
    return found


def node_group_labels(props: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in mapping(props.get("labels")).items() if isinstance(v, str)}


def selects(spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a pod's nodeSelector and required node affinity (In/NotIn/Exists/DoesNotExist) match labels."""
    if any(labels.get(k) != v for k, v in mapping(spec.get("nodeSelector")).items()):
        return False
    affinity = mapping(mapping(mapping(spec.get("affinity")).get("nodeAffinity"))
                       .get("requiredDuringSchedulingIgnoredDuringExecution"))
    terms = [t for t in as_list(affinity.get("nodeSelectorTerms")) if isinstance(t, dict)]
    return not terms or any(_term_matches(t, labels) for t in terms)


def _term_matches(term: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for expression in as_list(term.get("matchExpressions")):
        if not isinstance(expression, dict):
            continue
        key, operator = str(expression.get("key")), expression.get("operator")
        values = as_list(expression.get("values"))
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
