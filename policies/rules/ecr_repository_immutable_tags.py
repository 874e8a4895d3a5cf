"""ECR image tags are immutable: a tag names one image forever."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import is_unknown, props_of


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    mutability = props_of(args).get("imageTagMutability")
    if is_unknown(mutability) or mutability == "IMMUTABLE":
        return
    report_violation(f"ECR repository '{args.name}' has imageTagMutability {mutability or 'MUTABLE (default)'}; "
                     "required: IMMUTABLE, so a deployed tag always names the image that was scanned and approved",
                     None)


RULE = Rule(
    id="ecr-repository-immutable-tags",
    description="ECR repositories have immutable image tags.",
    severity="medium",
    control="AWS FSBP ECR.2",
    kind="resource",
    validate=validate,
    resource_types=frozenset({"aws:ecr/repository:Repository"}),
    remediation="Set image_tag_mutability='IMMUTABLE'; publish each build under a new tag.",
)
