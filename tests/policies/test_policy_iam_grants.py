"""IAM stack rules on identity policies: no '<service>:*' actions (IAM.21), no decrypt on every key (KMS.1/2)."""

from __future__ import annotations

import json

import pytest

from policies.rules.iam_no_kms_decrypt_on_all_keys import RULE as KMS_DECRYPT
from policies.rules.iam_no_kms_decrypt_on_all_keys import covers_all_keys
from policies.rules.iam_no_service_wildcard_actions import RULE as SERVICE_WILDCARDS

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-0000-1111-2222-333344445555"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# -- no service wildcards -----------------------------------------------------------------------

@pytest.mark.parametrize("resource_type", [POLICY, ROLE_POLICY, USER_POLICY])
def test_named_actions_are_compliant(kit, resource_type):
    policy = kit.resource(resource_type, {"policy": doc(allow(["s3:Get*", "s3:PutObject"], "arn:aws:s3:::b/*"),
                                                        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"})}, "p")
    assert kit.run(SERVICE_WILDCARDS, kit.stack(policy)) == []


@pytest.mark.parametrize("action, found", [
    ("sagemaker:*", "'sagemaker:*'"),
    (["s3:GetObject", "logs:*", "ec2:*"], "'logs:*', 'ec2:*'"),
])
def test_service_wildcards_are_reported_whatever_the_resource(kit, action, found):
    policy = kit.resource(ROLE_POLICY, {"policy": doc(allow(action, "arn:aws:sagemaker:*:111122223333:*/fraud-*",
                                                            Sid="Team"))}, "execution-policy")
    assert kit.run(SERVICE_WILDCARDS, kit.stack(policy)) == [
        (f"IAM RolePolicy 'execution-policy': statement 'Team' allows {found}; allowed: the named actions the "
         "workload needs (e.g. 's3:GetObject'), never '<service>:*', whatever the resource or condition", policy.urn)]


def test_role_inline_policies_are_checked_and_trust_policies_are_not(kit):
    trust = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:*"})
    role = kit.resource(ROLE, {"assumeRolePolicy": trust, "inlinePolicies": [{"name": "x", "policy": doc(
        allow("kms:*", KEY))}]}, "training")
    [(message, urn)] = kit.run(SERVICE_WILDCARDS, kit.stack(role))
    assert urn == role.urn and message.startswith("IAM role 'training' inline policy 'x': statement #1 allows 'kms:*'")


def test_permissions_boundaries_are_exempt_but_other_managed_policies_are_not(kit):
    boundary = kit.resource(POLICY, {"name": "workload-boundary", "policy": doc(allow("s3:*", "arn:aws:s3:::*"))},
                            "workload-boundary")
    attached = kit.resource(POLICY, {"name": "team-access", "policy": doc(allow("s3:*", "arn:aws:s3:::*"))},
                            "team-access")
    role = kit.resource(ROLE, {"permissionsBoundary": kit.unknown}, "r", deps={"permissionsBoundary": [boundary]})
    assert [urn for _, urn in kit.run(SERVICE_WILDCARDS, kit.stack(boundary, attached, role))] == [attached.urn]


def test_boundary_named_by_arn_is_exempt(kit):
    boundary = kit.resource(POLICY, {"name": "b", "policy": doc(allow("sagemaker:*", "*"))}, "b")
    role = kit.resource(ROLE, {"permissionsBoundary": "arn:aws:iam::111122223333:policy/b"}, "r", dependencies=[])
    assert kit.run(SERVICE_WILDCARDS, kit.stack(boundary, role)) == []


def test_unknown_policy_is_not_a_violation(kit):
    assert kit.run(SERVICE_WILDCARDS, kit.stack(kit.resource(POLICY, {"policy": kit.unknown}, "p"))) == []


# -- no decrypt on every key --------------------------------------------------------------------

@pytest.mark.parametrize("pattern, every_key", [
    ("*", True), ("arn:aws:kms:*:111122223333:key/*", True), ("arn:aws:kms:eu-west-1:111122223333:key/*", True),
    ("arn:aws:kms:*", True), ("arn:aws:kms:*:*:*", True), (KEY, False),
    ("arn:aws:kms:eu-west-1:111122223333:alias/*", False), ("arn:aws:s3:::*", False),
])
def test_covers_all_keys(pattern, every_key):
    assert covers_all_keys(pattern) is every_key


def test_decrypt_on_named_keys_is_compliant(kit):
    policy = kit.resource(ROLE_POLICY, {"policy": doc(allow(["kms:Decrypt", "kms:GenerateDataKey*"], KEY),
                                                      allow("kms:ListKeys"))}, "p")
    assert kit.run(KMS_DECRYPT, kit.stack(policy)) == []


@pytest.mark.parametrize("statement, found", [
    (allow("kms:Decrypt", "arn:aws:kms:*:111122223333:key/*"), "kms:Decrypt"),
    (allow(["kms:ReEncrypt*", "kms:GenerateDataKey"]), "kms:ReEncryptFrom"),
    (allow("kms:*", ["arn:aws:kms:*:111122223333:key/*"]), "kms:Decrypt, kms:ReEncryptFrom"),
    (allow("kms:Decrypt", Condition={"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}),
     "kms:Decrypt"),
    ({"Effect": "Allow", "NotAction": "kms:Encrypt", "Resource": "*"}, "kms:Decrypt, kms:ReEncryptFrom"),
])
def test_decrypt_on_every_key_is_reported(kit, statement, found):
    policy = kit.resource(POLICY, {"name": "ci", "policy": doc(statement)}, "ci")
    [(message, urn)] = kit.run(KMS_DECRYPT, kit.stack(policy))
    assert urn == policy.urn
    assert message.startswith(f"IAM Policy 'ci': statement #1 allows {found} on ")
    assert message.endswith("(every KMS key); allowed: decrypt actions only on the ARNs of the keys the workload uses")


def test_decrypt_in_a_boundary_is_exempt(kit):
    boundary = kit.resource(POLICY, {"name": "b", "policy": doc(allow("kms:Decrypt"))}, "b")
    role = kit.resource(ROLE, {"permissionsBoundary": kit.unknown}, "r", deps={"permissionsBoundary": [boundary]})
    assert kit.run(KMS_DECRYPT, kit.stack(boundary, role)) == []
