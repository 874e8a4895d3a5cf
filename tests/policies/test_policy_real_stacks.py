"""The issue-7 rules on real captured graphs: each catches one realistic mistake in an example stack
and names the culprit (the rules of tests/plan/test_policy_bridge.py are covered there)."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from platform_lib.plan.policy_run import evaluate
from policies.pack import RULES


def _bridge_rules() -> set[str]:
    """Rules whose real-stack mutation lives in tests/plan/test_policy_bridge.py (its MUTATIONS)."""
    path = Path(__file__).parents[1] / "plan" / "test_policy_bridge.py"
    spec = importlib.util.spec_from_file_location("policy_bridge_mutations", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.MUTATIONS)


BRIDGE_RULES = _bridge_rules()


def find(resources, name, token):
    return next(r for r in resources if r.name == name and r.type == token)


def drop(name, token):
    return lambda resources: resources.remove(find(resources, name, token))


def set_input(name, token, key, value):
    def mutate(resources):
        find(resources, name, token).inputs[key] = value
    return mutate


def rewrite_policy(name, token, change: Callable[[dict[str, Any]], None]):
    def mutate(resources):
        resource = find(resources, name, token)
        document = json.loads(resource.inputs["policy"])
        change(document)
        resource.inputs["policy"] = json.dumps(document)
    return mutate


ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


def add_resource(like_name, like_token, name, token, inputs, **changes):
    """A new resource of ``token`` named ``name``, registered like ``like_name`` (same provider and parent)."""
    def mutate(resources):
        like = find(resources, like_name, like_token)
        urn = like.urn.rsplit("::", 2)[0] + f"::{token}::{name}"
        resources.append(dataclasses.replace(like, type=token, name=name, urn=urn, inputs=inputs,
                                             dependencies=[], property_dependencies={}, **changes))
    return mutate


def copy_sagemaker_role_without_guardrails(team_env):
    """A team adds a second SageMaker role by copying the execution role and its policy, minus the denies."""
    def mutate(resources):
        role = find(resources, f"{team_env}-sagemaker-execution", "aws:iam/role:Role")
        policy = find(resources, f"{team_env}-sagemaker-execution-policy", "aws:iam/rolePolicy:RolePolicy")
        new_role = dataclasses.replace(role, name=f"{team_env}-processing", urn=role.urn + "-processing",
                                       inputs={**role.inputs, "name": f"{team_env}-processing"})
        document = json.loads(policy.inputs["policy"])
        document["Statement"] = [s for s in document["Statement"] if s["Effect"] == "Allow"]
        new_policy = dataclasses.replace(
            policy, name=f"{team_env}-processing-policy", urn=policy.urn + "-processing",
            inputs={"role": f"{team_env}-processing", "policy": json.dumps(document)},
            property_dependencies={**policy.property_dependencies, "role": [new_role.urn]})
        resources.extend([new_role, new_policy])
    return mutate


def strip_org_condition(document):
    for statement in document["Statement"]:
        if statement.get("Sid") == "S3ServerAccessLogsDelivery":
            statement.pop("Condition")


def grant_s3_without_perimeter(document):
    document["Statement"].append({"Effect": "Allow", "Action": "s3:PutObject",
                                  "Resource": "arn:aws:s3:::platform-prod-flow-logs-archive/*"})


def kms_on_every_key(document):
    for statement in document["Statement"]:
        if statement.get("Sid") == "TeamKeys":
            statement["Resource"] = "arn:aws:kms:*:222222222222:key/*"


def drop_detectors_and_trails(resources):
    resources[:] = [r for r in resources if r.type not in ("aws:guardduty/detector:Detector",
                                                           "aws:cloudtrail/trail:Trail")]


OPEN_SSH_ACL = {"vpcId": "vpc-0example", "ingress": [{"ruleNo": 100, "action": "allow", "protocol": "tcp",
                                                       "fromPort": 22, "toPort": 22, "cidrBlock": "0.0.0.0/0"}]}

MUTATIONS: dict[str, tuple[str, str, Callable[[list[Any]], None]]] = {
    "s3-bucket-access-logging": ("fraud-prod", "fraud-prod-raw", drop(
        "fraud-prod-raw-logging", "aws:s3/bucketLogging:BucketLogging")),
    "s3-bucket-lifecycle-configured": ("fraud-prod", "fraud-prod-curated", drop(
        "fraud-prod-curated-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")),
    "s3-bucket-acls-disabled": ("fraud-prod", "fraud-prod-models-ownership", set_input(
        "fraud-prod-models-ownership", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "rule",
        {"objectOwnership": "ObjectWriter"})),
    "s3-bucket-policy-organization-only": ("fraud-prod", "fraud-prod-logs-policy", rewrite_policy(
        "fraud-prod-logs-policy", "aws:s3/bucketPolicy:BucketPolicy", strip_org_condition)),
    "iam-no-service-wildcard-actions": ("fraud-prod", "fraud-prod-models-replication-policy", rewrite_policy(
        "fraud-prod-models-replication-policy", "aws:iam/rolePolicy:RolePolicy",
        lambda doc: doc["Statement"][0].update(Action="s3:*"))),
    "iam-no-kms-decrypt-on-all-keys": ("fraud-prod", "fraud-prod-sagemaker-execution-policy", rewrite_policy(
        "fraud-prod-sagemaker-execution-policy", "aws:iam/rolePolicy:RolePolicy", kms_on_every_key)),
    "iam-s3-resource-account": ("platform-prod", "platform-prod-flow-logs-policy", rewrite_policy(
        "platform-prod-flow-logs-policy", "aws:iam/rolePolicy:RolePolicy", grant_s3_without_perimeter)),
    "sagemaker-role-denies-jobs-outside-vpc": ("vision-prod", "vision-prod-processing",
                                               copy_sagemaker_role_without_guardrails("vision-prod")),
    "vpc-default-security-group-closed": ("platform-prod", "platform-prod-vpc-use1", drop(
        "platform-prod-default-sg-use1", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")),
    "subnet-private-no-public-ip": ("platform-prod", "platform-prod-private-euw1-0", set_input(
        "platform-prod-private-euw1-0", "aws:ec2/subnet:Subnet", "mapPublicIpOnLaunch", True)),
    "network-acl-no-public-admin-ports": ("platform-dev", "platform-dev-bastion-acl", add_resource(
        "platform-dev-vpc-euw1", "aws:ec2/vpc:Vpc", "platform-dev-bastion-acl", "aws:ec2/networkAcl:NetworkAcl",
        OPEN_SSH_ACL)),
    "prod-platform-threat-detection": ("platform-prod", "aws-use1", drop_detectors_and_trails),
    # Serving (issue 12): a hand-edited configuration without its key, a model let out of the VPC, a
    # prod variant scaled down to one instance.
    "sagemaker-endpoint-config-kms-encrypted": ("fraud-prod", "fraud-prod-scorer-config-use1", set_input(
        "fraud-prod-scorer-config-use1", ENDPOINT_CONFIG, "kmsKeyArn", None)),
    "sagemaker-model-vpc-network-isolation": ("fraud-prod", "fraud-prod-scorer-model-euw1", set_input(
        "fraud-prod-scorer-model-euw1", "aws:sagemaker/model:Model", "enableNetworkIsolation", False)),
    "sagemaker-prod-variant-min-instances": ("fraud-prod", "fraud-prod-scorer-config-euw1", set_input(
        "fraud-prod-scorer-config-euw1", ENDPOINT_CONFIG, "productionVariants",
        [{"variantName": "AllTraffic", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 1,
          "initialVariantWeight": 1}])),
}


def test_every_rule_has_a_real_stack_mutation():
    assert {rule.id for rule in RULES} == BRIDGE_RULES | set(MUTATIONS)
    assert not BRIDGE_RULES & set(MUTATIONS)


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_rule_catches_a_mistake_in_a_real_stack(plans, rule):
    stack, culprit, mutate = MUTATIONS[rule]
    view = plans[stack]
    env = view.plan.environment
    before = [v for v in evaluate(view.resources, env) if v.rule == rule]
    assert before == [], [v.as_json() for v in before]
    resources = copy.deepcopy(view.resources)
    mutate(resources)
    found = [v for v in evaluate(resources, env) if v.rule == rule]
    assert culprit in {v.name for v in found}, [v.as_json() for v in found]
    new = {(v.name, v.message) for v in found} - {(v.name, v.message) for v in before}
    assert culprit in {name for name, _ in new}, "the mutation added no violation naming the culprit"
    assert {v.level for v in found} == {"mandatory" if env == "prod" else "advisory"}
