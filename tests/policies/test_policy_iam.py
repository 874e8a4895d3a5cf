"""IAM rules: no wildcard/sensitive grants, team roles carry a permissions boundary."""

from __future__ import annotations

import json

import pytest

from policies.rules.iam_no_wildcard_actions import RULE as NO_WILDCARDS
from policies.rules.iam_team_role_permissions_boundary import RULE as BOUNDARY

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET_ARN = "arn:aws:s3:::fraud-dev-raw/*"
BOUNDARY_ARN = "arn:aws:iam::111122223333:policy/ml-platform-team-boundary"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def doc(*statements, as_json=True):
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return json.dumps(document) if as_json else document


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# -- no wildcard actions ------------------------------------------------------------------------

@pytest.mark.parametrize("resource_type", [POLICY, ROLE_POLICY])
@pytest.mark.parametrize("as_json", [True, False])
def test_scoped_policy_is_compliant(kit, resource_type, as_json):
    passed_to_sagemaker = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    document = doc(allow(["s3:GetObject", "s3:PutObject"], BUCKET_ARN),
                   allow("iam:PassRole", "*", Condition=passed_to_sagemaker),
                   allow("s3:*", BUCKET_ARN),
                   allow("cloudwatch:PutMetricData"),
                   {"Effect": "Deny", "Action": "*", "Resource": "*"},
                   as_json=as_json)
    assert kit.run(NO_WILDCARDS, kit.args(resource_type, {"policy": document})) == []


@pytest.mark.parametrize("statement, finding", [
    (allow("*"), "action '*'"),
    (allow("*:*", BUCKET_ARN), "action '*:*'"),
    (allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}), "action '*'"),
    (allow(["s3:GetObject", "iam:*"]), "'iam:*'"),
    (allow("KMS:*"), "'kms:*'"),
    (allow("s3:*", ["*"], Condition={"StringEquals": {"aws:ResourceTag/team": "fraud"}}), "'s3:*'"),
    (allow("iam:PassRole"), "'iam:PassRole' without a Condition"),
    (allow("iam:Pass*"), "'iam:PassRole' without a Condition"),
    (allow("sts:AssumeRole"), "'sts:AssumeRole' without a Condition"),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "Allow with NotAction"),
    ({"Effect": "Allow", "Action": "ec2:*", "NotResource": BUCKET_ARN}, "'ec2:*'"),
])
def test_broad_grants_are_reported(kit, statement, finding):
    [(message, _)] = kit.run(NO_WILDCARDS, kit.args(POLICY, {"policy": doc(statement)}, "team-policy"))
    assert "IAM Policy 'team-policy'" in message and finding in message
    assert "allowed:" in message


def test_statement_given_as_single_object_and_named_by_sid(kit):
    document = json.dumps({"Version": "2012-10-17", "Statement": allow("*", Sid="Admin")})
    [(message, _)] = kit.run(NO_WILDCARDS, kit.args(ROLE_POLICY, {"policy": document, "role": "r"}))
    assert "statement 'Admin'" in message


def test_role_inline_policies_are_checked(kit):
    props = {"assumeRolePolicy": TRUST, "inlinePolicies": [
        {"name": "ok", "policy": doc(allow("s3:GetObject", BUCKET_ARN))},
        {"name": "admin", "policy": doc(allow("*"))},
    ]}
    [(message, _)] = kit.run(NO_WILDCARDS, kit.args(ROLE, props, "training"))
    assert "IAM role 'training' inline policy 'admin'" in message


def test_trust_policy_is_not_an_identity_policy(kit):
    assert kit.run(NO_WILDCARDS, kit.args(ROLE, {"assumeRolePolicy": TRUST})) == []


def test_unknown_policy_document_is_not_a_violation(kit):
    assert kit.run(NO_WILDCARDS, kit.args(POLICY, {"policy": kit.unknown})) == []
    assert kit.run(NO_WILDCARDS, kit.args(POLICY, {})) == []


def test_invalid_policy_json_is_reported(kit):
    [(message, _)] = kit.run(NO_WILDCARDS, kit.args(POLICY, {"policy": "{"}, "broken"))
    assert "not valid JSON" in message


def test_other_types_are_ignored(kit):
    key_policy = doc(allow("kms:*", Principal={"AWS": "arn:aws:iam::111122223333:root"}))
    assert kit.run(NO_WILDCARDS, kit.args("aws:kms/key:Key", {"policy": key_policy})) == []


# -- permissions boundary -----------------------------------------------------------------------

def test_team_role_with_boundary_is_compliant(kit):
    props = {"assumeRolePolicy": TRUST, "permissionsBoundary": BOUNDARY_ARN}
    assert kit.run(BOUNDARY, kit.args(ROLE, props, "fraud-dev-training")) == []


def test_team_role_without_boundary_is_reported(kit):
    [(message, _)] = kit.run(BOUNDARY, kit.args(ROLE, {"assumeRolePolicy": TRUST}, "fraud-dev-training"))
    assert "IAM role 'fraud-dev-training'" in message and "team 'fraud'" in message
    assert "permissionsBoundary" in message


def test_platform_role_needs_no_boundary(kit):
    platform = kit.provider({**kit.default_tags, "team": "platform"})
    assert kit.run(BOUNDARY, kit.args(ROLE, {"assumeRolePolicy": TRUST}, provider=platform)) == []


def test_role_kind_tag_marks_platform_stack_roles_as_team_roles(kit):
    platform = kit.provider({**kit.default_tags, "team": "platform"})
    props = {"assumeRolePolicy": TRUST, "tags": {"ml-platform/role-kind": "team"}}
    [(message, _)] = kit.run(BOUNDARY, kit.args(ROLE, props, "jobs", provider=platform))
    assert message.startswith("IAM role 'jobs' is a team role (team 'platform') without a permissionsBoundary")


def test_own_team_tag_overrides_provider_default(kit):
    platform = kit.provider({**kit.default_tags, "team": "platform"})
    props = {"assumeRolePolicy": TRUST, "tags": {"team": "vision"}}
    [(message, _)] = kit.run(BOUNDARY, kit.args(ROLE, props, provider=platform))
    assert "team 'vision'" in message


def test_unknown_boundary_is_not_a_violation(kit):
    props = {"assumeRolePolicy": TRUST, "permissionsBoundary": kit.unknown}
    assert kit.run(BOUNDARY, kit.args(ROLE, props)) == []
