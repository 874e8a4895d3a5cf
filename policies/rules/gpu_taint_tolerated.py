"""GPU nodes are tainted, and every GPU workload tolerates the taint and has a GPU pool to run on."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import as_list, display_name, is_known, of_types, props_of
from policies.support.kubernetes import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_GROUP,
    WORKLOAD_TYPES,
    containers,
    gpu_request,
    mapping,
    node_group_labels,
    node_group_taints,
    object_name,
    pod_spec,
    selects,
    tolerates,
)

TAINT = f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:{GPU_TAINT_EFFECT}"
_GPU_TYPE = re.compile(r"^(g|p)\d[a-z]*\.")
DEVICE_PLUGIN_IMAGE = "k8s-device-plugin"
POOL_LABEL = "ml-platform/pool"     # GPU.pool_label of platform_lib.config.schema.compute


def is_gpu_pool(props: dict[str, Any]) -> bool:
    """A node group with an NVIDIA AMI or GPU instance types."""
    ami = props.get("amiType")
    types = [t for t in as_list(props.get("instanceTypes")) if isinstance(t, str)]
    return (isinstance(ami, str) and "NVIDIA" in ami) or any(_GPU_TYPE.match(t) for t in types)


def _tolerates_gpu(spec: dict[str, Any]) -> bool:
    return tolerates(spec.get("tolerations"), GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each GPU node group carries nvidia.com/gpu=true:NoSchedule; each pod template requesting
    nvidia.com/gpu (and the device plugin) tolerates it; each GPU pod matches a GPU pool whose labels
    its node selector/affinity accepts and whose taints it tolerates.

    A stack without node groups (a team stack: the pools are the platform stack's) cannot see the pools;
    there a GPU pod that selects a named pool (`ml-platform/pool`) is left to the team program's contract
    check, which refuses a model whose pool the platform does not export (exit 2). A GPU pod that selects
    no pool there is still reported."""
    pools = []
    node_groups = list(of_types(args.resources, (NODE_GROUP,)))
    for group in node_groups:
        props = props_of(group)
        if not is_gpu_pool(props):
            continue
        taints = node_group_taints(props)
        pools.append((props, taints))
        if (GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT) not in taints:
            report_violation(f"GPU node group '{display_name(group, 'nodeGroupName')}' lacks the taint {TAINT}; "
                             f"without it any pod lands on (and blocks) the GPU nodes", group.urn)
    for workload in args.resources:
        if workload.resource_type not in WORKLOAD_TYPES:
            continue
        spec = pod_spec(workload.resource_type, props_of(workload))
        if spec is None:
            continue
        kind = workload.resource_type.rsplit(":", 1)[-1]
        label = f"{kind} '{object_name(workload)}'"
        device_plugin = any(DEVICE_PLUGIN_IMAGE in str(c.get("image", "")) for c in containers(spec))
        if not gpu_request(spec) and not device_plugin:
            continue
        if not _tolerates_gpu(spec):
            report_violation(f"{label} {'is the device plugin' if device_plugin else 'requests nvidia.com/gpu'} "
                             f"but does not tolerate {TAINT}; it would never schedule on a GPU node", workload.urn)
            continue
        if device_plugin or (not node_groups and _selects_a_named_pool(spec)):
            continue
        fits = [p for p, taints in pools if selects(spec, node_group_labels(p))
                and all(tolerates(spec.get("tolerations"), *t) for t in taints if t[2] != "PreferNoSchedule")]
        if not fits:
            known = [n for n in (p.get("nodeGroupName") for p, _ in pools) if isinstance(n, str) and is_known(n)]
            where = f"GPU node pools in this stack: {', '.join(known)}" if pools else "no GPU node pool in this stack"
            report_violation(f"{label} requests nvidia.com/gpu but no GPU node pool could host it (its node "
                             f"selector/affinity or tolerations match none; {where})", workload.urn)


def _selects_a_named_pool(spec: dict[str, Any]) -> bool:
    return isinstance(mapping(spec.get("nodeSelector")).get(POOL_LABEL), str)


RULE = Rule(
    id="gpu-taint-tolerated",
    description="GPU node pools carry the GPU taint; GPU workloads tolerate it and fit a GPU pool.",
    severity="high",
    control="AWS Well-Architected REL05-BP01",
    kind="stack",
    validate=validate,
    remediation="Build GPU pools and workloads from platform_lib.config.schema.compute.GPU: node groups get "
                "GPU.eks_taint, pod specs get GPU.toleration and a selector on GPU.pool_label.",
)
