"""Node groups use only the GPU instance families their environment allows."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_list, display_name, is_known, props_of

TYPES = frozenset({"aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate"})
CONFIG_KEY = "allowedGpuFamilies"
DEFAULT_FAMILIES = ("g4dn", "g5", "g6")
"""Without config: the cheap inference GPUs only."""
_GPU_FAMILY = re.compile(r"^(?P<family>(g|p)\d[a-z]*)\.")


def gpu_families(instance_types: list[str]) -> list[str]:
    return sorted({m["family"] for t in instance_types if (m := _GPU_FAMILY.match(t))})


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every GPU family (g*, p*) in instanceTypes / instanceType is in the environment's allowed list."""
    props = props_of(args)
    allowed = [str(f) for f in as_list((args.get_config() or {}).get(CONFIG_KEY))] or list(DEFAULT_FAMILIES)
    types = [t for t in as_list(props.get("instanceTypes")) + [props.get("instanceType")]
             if isinstance(t, str) and is_known(t)]
    denied = [f for f in gpu_families(types) if f not in allowed]
    if denied:
        label = display_name(args, "nodeGroupName", "name")
        report_violation(f"'{label}' uses GPU instance families {denied} not allowed in this environment; "
                         f"allowed: {', '.join(allowed)}", None)


RULE = Rule(
    id="eks-gpu-instance-families-allowed",
    description="Node groups use only the GPU instance families allowed in their environment.",
    severity="medium",
    control="AWS Well-Architected COST02-BP05",
    kind="resource",
    validate=validate,
    resource_types=TYPES,
    remediation="Pick an allowed family (policies/config/<env>.json allowedGpuFamilies) or ask the platform team "
                "to allow it for this environment.",
    config_schema={CONFIG_KEY: {"type": "array", "items": {"type": "string"},
                                "description": "GPU instance families (g5, p4d ...) allowed."}},
)
