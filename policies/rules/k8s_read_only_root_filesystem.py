"""Team containers run with a read-only root filesystem."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import is_true, is_unknown, props_of
from policies.support.kubernetes import (
    SYSTEM_NAMESPACES,
    WORKLOAD_TYPES,
    containers,
    mapping,
    namespace_of,
    object_name,
    pod_spec,
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container sets securityContext.readOnlyRootFilesystem=true; scratch space comes from emptyDir
    volumes (/tmp, the model directory). The platform's node agents in kube-system are exempt."""
    props = props_of(args)
    spec = pod_spec(args.resource_type, props)
    if spec is None or namespace_of(props) in SYSTEM_NAMESPACES:
        return
    label = f"{args.resource_type.rsplit(':', 1)[-1]} '{object_name(args)}'"
    for container in containers(spec):
        flag = mapping(container.get("securityContext")).get("readOnlyRootFilesystem")
        if not is_unknown(flag) and not is_true(flag):
            report_violation(f"{label} container '{container.get('name', '?')}' can write its root filesystem; "
                             f"required: securityContext.readOnlyRootFilesystem=true (emptyDir for scratch)", None)


RULE = Rule(
    id="k8s-read-only-root-filesystem",
    description="Kubernetes containers run with a read-only root filesystem.",
    severity="medium",
    control="NIST 800-53 CM-7",
    kind="resource",
    validate=validate,
    resource_types=WORKLOAD_TYPES,
    remediation="Set securityContext.readOnlyRootFilesystem=true and mount emptyDir volumes where the "
                "process writes (/tmp, /opt/ml/model).",
)
