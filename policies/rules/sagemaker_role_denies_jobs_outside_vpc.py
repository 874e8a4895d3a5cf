"""Roles SageMaker assumes can't create jobs or models outside the platform's VPC."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    ROLE,
    UNKNOWN,
    InvalidPolicyDocument,
    Statement,
    of_types,
    parse_policy_document,
    role_boundary_documents,
    role_documents,
    statements,
    trusted_services,
)

SAGEMAKER = "sagemaker.amazonaws.com"
VPC_ACTIONS = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
)
"""The SageMaker actions that take a VpcConfig and support the sagemaker:Vpc* condition keys."""
VPC_KEYS = ("sagemaker:VpcSubnets",)
"""Enough to keep work inside a VPC: the API takes a VpcConfig's subnets and security groups together."""
REQUIRED = (f"a Deny statement (in the role's policies or its permissions boundary in the stack) on "
            f"{', '.join(VPC_ACTIONS)} conditioned on {' and '.join(VPC_KEYS)} (e.g. Null "
            "sagemaker:VpcSubnets=true, and ForAnyValue:StringNotEquals sagemaker:VpcSubnets=[<platform subnets>])")


def _denied_keys(action: str, denies: list[Statement]) -> set[str]:
    """The VPC condition keys some Deny statement on ``action`` tests (an unconditional Deny on all
    resources covers them all: the role cannot create the job or model at all)."""
    keys: set[str] = set()
    for statement in denies:
        if not statement.grants(action):
            continue
        if not statement.condition and "*" in statement.resources:
            return set(VPC_KEYS)
        keys |= {key for key in VPC_KEYS if key.lower() in statement.condition_keys}
    return keys


def _deny_statements(role: Any, resources: list[Any]) -> list[Statement] | None:
    """Deny statements of the role's policies and in-stack boundary; None if a document is unknown."""
    denies: list[Statement] = []
    for _, document in [*role_documents(role, resources), *role_boundary_documents(role, resources)]:
        try:
            if parse_policy_document(document) is UNKNOWN:
                return None
            denies += [s for s in statements(document) if s.denies]
        except InvalidPolicyDocument:
            continue
    return denies


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every role trusted by sagemaker.amazonaws.com denies VPC-less jobs and models."""
    resources = list(args.resources)
    for role in of_types(resources, (ROLE,)):
        if SAGEMAKER not in trusted_services(role):
            continue
        denies = _deny_statements(role, resources)
        if denies is None:
            continue
        missing = [f"{action} without {'/'.join(k for k in VPC_KEYS if k not in keys)}"
                   for action in VPC_ACTIONS if (keys := _denied_keys(action, denies)) != set(VPC_KEYS)]
        if missing:
            report_violation(f"IAM role '{role.name}' (assumed by {SAGEMAKER}) doesn't deny "
                             f"{'; '.join(missing)}; required: {REQUIRED}", role.urn)


RULE = Rule(
    id="sagemaker-role-denies-jobs-outside-vpc",
    description="Roles SageMaker assumes deny creating jobs and models without the platform's subnets and groups.",
    severity="high",
    control="NIST 800-53 SC-7, AC-4 (AWS secure SageMaker reference architecture)",
    kind="stack",
    validate=validate,
    remediation=("Add Deny statements on sagemaker:Create{Training,Processing,HyperParameterTuning}Job and "
                 "CreateModel with Null/ForAnyValue:StringNotEquals conditions on sagemaker:VpcSubnets and "
                 "sagemaker:VpcSecurityGroupIds to the execution role's policy."),
)
