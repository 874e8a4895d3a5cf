"""sagemaker-pipeline-starter-scoped: an EventBridge target or Scheduler schedule that starts a SageMaker pipeline
uses a role that may only start that pipeline (issue 14: scheduled and new-data retraining)."""

from __future__ import annotations

import json

import pytest

from policies.rules.sagemaker_pipeline_starter_scoped import RULE as STARTER

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
PIPELINE = "arn:aws:sagemaker:eu-west-1:111111111111:pipeline/fraud-dev-scorer-retrain"
ROLE_ARN = "arn:aws:iam::111111111111:role/fraud-dev-scorer-new-data"
START = {"Sid": "StartThePipeline", "Effect": "Allow", "Action": ["sagemaker:StartPipelineExecution"],
         "Resource": [PIPELINE]}


def stack(kit, *statements, starter: str = TARGET, role_props: dict | None = None, extra=()):
    role = kit.resource(ROLE, {"name": "fraud-dev-scorer-new-data", "arn": ROLE_ARN, **(role_props or {})},
                        "fraud-dev-scorer-new-data")
    policy = kit.resource(ROLE_POLICY, {"role": "fraud-dev-scorer-new-data", "policy": json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)})}, "fraud-dev-scorer-new-data-policy",
        deps={"role": [role]})
    if starter == TARGET:
        start = kit.resource(TARGET, {"rule": "fraud-dev-scorer-new-data", "arn": PIPELINE, "roleArn": ROLE_ARN,
                                      "sagemakerPipelineTarget": {}}, "fraud-dev-scorer-new-data",
                             deps={"roleArn": [role]})
    else:   # a schedule names its role inside its target (no property dependency: matched by name)
        start = kit.resource(SCHEDULE, {"name": "s", "target": {"arn": PIPELINE, "roleArn": ROLE_ARN}}, "s")
    return kit.stack(role, policy, start, *(extra(role) if callable(extra) else extra))


@pytest.mark.parametrize("starter", [TARGET, SCHEDULE])
def test_a_role_that_only_starts_its_pipeline_is_compliant(kit, starter):
    assert kit.run(STARTER, stack(kit, START, starter=starter)) == []


def test_starters_of_other_targets_or_unknown_documents_are_not_judged(kit):
    lambda_target = kit.resource(TARGET, {"rule": "r", "arn": "arn:aws:lambda:eu-west-1:1:function:f",
                                          "roleArn": ROLE_ARN}, "t")
    wide = {**START, "Action": ["sagemaker:*"]}
    assert kit.run(STARTER, kit.stack(lambda_target)) == []
    role = kit.resource(ROLE, {"name": "fraud-dev-scorer-new-data"}, "fraud-dev-scorer-new-data")
    unknown = kit.resource(ROLE_POLICY, {"role": "fraud-dev-scorer-new-data", "policy": kit.unknown}, "p",
                           deps={"role": [role]})
    target = kit.resource(TARGET, {"rule": "r", "arn": PIPELINE, "roleArn": ROLE_ARN}, "t", deps={"roleArn": [role]})
    assert kit.run(STARTER, kit.stack(role, unknown, target)) == []
    assert kit.run(STARTER, stack(kit, wide))   # but a known wide document is


@pytest.mark.parametrize(("statements", "role_props", "problem"), [
    ([{**START, "Resource": ["arn:aws:sagemaker:eu-west-1:111111111111:pipeline/*"]}], {},
     "applies to arn:aws:sagemaker:eu-west-1:111111111111:pipeline/*"),
    ([{**START, "Action": ["sagemaker:StartPipelineExecution", "sagemaker:CreateTrainingJob"]}], {},
     "allows sagemaker:CreateTrainingJob"),
    ([START, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], {}, "statement #2 allows s3:GetObject"),
    ([{**START, "Action": "*"}], {}, "allows *"),
    ([START], {"managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]},
     "managed policy arn:aws:iam::aws:policy/AmazonSageMakerFullAccess is attached"),
])
def test_a_broader_role_is_reported(kit, statements, role_props, problem):
    [(message, urn)] = kit.run(STARTER, stack(kit, *statements, role_props=role_props))
    assert problem in message, message
    assert message.startswith(f"'fraud-dev-scorer-new-data' starts {PIPELINE} as IAM role "
                              f"'fraud-dev-scorer-new-data', which may do more: ")
    assert urn is not None and urn.endswith("fraud-dev-scorer-new-data") and ROLE.split(":")[-1] in urn


def test_an_attached_policy_from_outside_the_stack_is_reported(kit):
    def attached(role):
        return [kit.resource(ATTACHMENT, {"role": "fraud-dev-scorer-new-data",
                                          "policyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}, "a",
                             deps={"role": [role]})]
    [(message, _)] = kit.run(STARTER, stack(kit, START, extra=attached))
    assert "managed policy arn:aws:iam::aws:policy/PowerUserAccess (not in the stack) is attached" in message
