"""What starts a SageMaker pipeline (an EventBridge rule's target, an EventBridge Scheduler schedule) does so with a
role that may only start that pipeline.

Such a role is assumed by a service on an event anyone who can write the data prefix can cause (a new object), so a
broader grant turns an upload into whatever else the role may do. Its identity policies in the stack (inline,
RolePolicy, attached managed policies) may allow ``sagemaker:StartPipelineExecution`` on the target pipeline's ARN
and nothing else; managed policies from outside the stack cannot be read, so attaching one is reported too."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    ROLE,
    UNKNOWN,
    InvalidPolicyDocument,
    as_list,
    is_known,
    linked_targets,
    of_types,
    parse_policy_document,
    props_of,
    role_documents,
    statements,
)

EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY = "aws:iam/policy:Policy"
START = "sagemaker:startpipelineexecution"


def _starters(resources: list[Any]) -> list[tuple[Any, str, str, str]]:
    """(resource, pipeline ARN, role ARN, role property) of every target and schedule that starts a pipeline."""
    found = []
    for resource in of_types(resources, (EVENT_TARGET, SCHEDULE)):
        props = props_of(resource)
        target = props if resource.resource_type == EVENT_TARGET else props.get("target")
        if not isinstance(target, dict):
            continue
        arn, role = target.get("arn"), target.get("roleArn")
        if isinstance(arn, str) and is_known(arn) and ":pipeline/" in arn and isinstance(role, str) and is_known(role):
            found.append((resource, arn, role, "roleArn" if resource.resource_type == EVENT_TARGET else "target"))
    return found


def _role(source: Any, prop: str, role_arn: str, roles: list[Any]) -> Any | None:
    hits = linked_targets(source, prop, roles, match_props=("arn",))
    if len(hits) == 1:
        return hits[0]
    named = [r for r in roles if isinstance(props_of(r).get("name"), str)
             and role_arn.endswith(f":role/{props_of(r)['name']}")]
    return named[0] if len(named) == 1 else None


def _broader(role: Any, resources: list[Any], pipeline: str) -> list[str] | None:
    """What the role allows beyond starting ``pipeline``; None when a document is unknown."""
    problems = []
    for where, document in role_documents(role, resources):
        try:
            if parse_policy_document(document) is UNKNOWN:
                return None
            found = statements(document)
        except InvalidPolicyDocument:
            problems.append(f"{where} is not a policy document")
            continue
        for index, statement in enumerate(found):
            if not statement.allows:
                continue
            actions = [a for a in statement.actions if a.lower() != START]
            if statement.not_actions or actions:
                problems.append(f"{where} {statement.label(index)} allows "
                                f"{', '.join(actions) or 'NotAction ' + ', '.join(statement.not_actions)}")
            resources_ = [r for r in statement.resources if r != pipeline]
            if statement.not_resources or resources_:
                problems.append(f"{where} {statement.label(index)} applies to "
                                f"{', '.join(resources_) or 'NotResource ' + ', '.join(statement.not_resources)}")
    managed = props_of(role).get("managedPolicyArns")
    if managed is UNKNOWN:
        return None
    problems += [f"managed policy {arn} is attached" for arn in as_list(managed)]
    in_stack = of_types(resources, (POLICY,))
    for attachment in of_types(resources, (ATTACHMENT,)):
        if role in linked_targets(attachment, "role", [role], match_props=("name", "id")) and not linked_targets(
                attachment, "policyArn", in_stack, match_props=("arn", "id")):
            problems.append(f"managed policy {props_of(attachment).get('policyArn')} (not in the stack) is attached")
    return problems


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = list(args.resources)
    roles = of_types(resources, (ROLE,))
    for starter, pipeline, role_arn, prop in _starters(resources):
        role = _role(starter, prop, role_arn, roles)
        if role is None:
            continue   # a role of another stack: its own stack's plan checks it
        problems = _broader(role, resources, pipeline)
        if problems:
            report_violation(f"'{starter.name}' starts {pipeline} as IAM role '{role.name}', which may do more: "
                             f"{'; '.join(problems)}; required: only sagemaker:StartPipelineExecution on "
                             f"{pipeline}", role.urn)


RULE = Rule(
    id="sagemaker-pipeline-starter-scoped",
    description="A role that starts a SageMaker pipeline on an event or schedule may only start that pipeline.",
    severity="high",
    control="NIST 800-53 AC-6",
    kind="stack",
    validate=validate,
    remediation="Give the EventBridge target or schedule its own role whose only statement allows "
                "sagemaker:StartPipelineExecution on the pipeline's ARN (infra/components/retraining.py).",
)
