"""Perimeter rules: bucket policies stay in the organisation, identity policies' S3 grants carry
s3:ResourceAccount, SageMaker roles deny VPC-less jobs."""

from __future__ import annotations

import json

import pytest

from policies.rules.iam_s3_resource_account import RULE as RESOURCE_ACCOUNT
from policies.rules.s3_bucket_policy_organization_only import RULE as ORG_ONLY
from policies.rules.sagemaker_role_denies_jobs_outside_vpc import RULE as SAGEMAKER_VPC

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ACCOUNT, OTHER = "111122223333", "999988887777"
BUCKET = "arn:aws:s3:::fraud-dev-raw"
DENY_TLS = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, action="s3:GetObject", resource=f"{BUCKET}/*", **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


# -- bucket policies stay in the organisation ---------------------------------------------------

def bucket_policy(kit, *statements, accounts=(ACCOUNT,), config=None):
    return kit.args(BUCKET_POLICY, {"bucket": "fraud-dev-raw", "policy": doc(*statements)}, "raw-policy",
                    provider=kit.provider(accounts=accounts), config=config)


@pytest.mark.parametrize("statement", [
    allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/fraud-dev-training"}),
    allow({"AWS": ACCOUNT}),
    allow("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
    allow({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalAccount": [ACCOUNT]}}),
    allow({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject",
          Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
    allow({"Service": "delivery.logs.amazonaws.com"}, "s3:PutObject",
          Condition={"StringEquals": {"aws:SourceOrgID": "o-abc123"}}),
    allow({"Service": "cloudtrail.amazonaws.com"}, "s3:PutObject",
          Condition={"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/t"}}),
])
def test_grants_within_the_organisation_are_compliant(kit, statement):
    assert kit.run(ORG_ONLY, bucket_policy(kit, DENY_TLS, statement)) == []


@pytest.mark.parametrize("statement, finding", [
    (allow("*"), "principal '*' without an organisation condition"),
    (allow({"AWS": f"arn:aws:iam::{OTHER}:root"}),
     f"principal 'arn:aws:iam::{OTHER}:root' of account {OTHER}, outside {ACCOUNT}"),
    (allow({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalAccount": OTHER}}),
     "principal '*' without an organisation condition"),
    (allow({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject"),
     "service principal 'logging.s3.amazonaws.com' without aws:SourceAccount or aws:SourceArn (of a trusted "
     "account) or aws:SourceOrgID"),
    (allow({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject",
           Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:::fraud-dev-raw"}}),
     "service principal 'logging.s3.amazonaws.com' without aws:SourceAccount or aws:SourceArn (of a trusted "
     "account) or aws:SourceOrgID"),
    (allow({"Service": "cloudtrail.amazonaws.com"}, "s3:PutObject",
           Condition={"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:eu-west-1:{OTHER}:trail/t"}}),
     "service principal 'cloudtrail.amazonaws.com' without aws:SourceAccount or aws:SourceArn (of a trusted "
     "account) or aws:SourceOrgID"),
    (allow({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}),
     "a CanonicalUser principal (another account's S3 identity)"),
    ({"Effect": "Allow", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "s3:GetObject", "Resource": "*"},
     "every principal (NotPrincipal, or no Principal)"),
])
def test_grants_outside_the_organisation_are_reported(kit, statement, finding):
    [(message, _)] = kit.run(ORG_ONLY, bucket_policy(kit, DENY_TLS, statement))
    assert message.startswith(f"bucket policy 'raw-policy' statement #2 allows {finding}; allowed: principals of "
                              "the stack's accounts")


def test_trusted_accounts_come_from_the_rule_config_too(kit):
    statement = allow({"AWS": f"arn:aws:iam::{OTHER}:role/reader"})
    assert kit.run(ORG_ONLY, bucket_policy(kit, statement, config={"trustedAccounts": [OTHER]})) == []


def test_inline_bucket_policy_is_checked(kit):
    args = kit.args("aws:s3/bucket:Bucket", {"bucket": "b", "policy": doc(allow("*"))}, "b",
                    provider=kit.provider(accounts=[ACCOUNT]))
    [(message, _)] = kit.run(ORG_ONLY, args)
    assert message.startswith("inline bucket policy 'b' statement #1 allows principal '*'")


def test_unknown_accounts_or_documents_are_not_violations(kit):
    named_other = allow({"AWS": f"arn:aws:iam::{OTHER}:root"})
    no_accounts = kit.args(BUCKET_POLICY, {"policy": doc(named_other)}, provider=kit.provider())
    assert kit.run(ORG_ONLY, no_accounts) == []  # whose account is "outside" is unknown without allowedAccountIds
    assert kit.run(ORG_ONLY, kit.args(BUCKET_POLICY, {"policy": kit.unknown})) == []
    unknown_principal = allow({"AWS": kit.unknown})
    assert kit.run(ORG_ONLY, bucket_policy(kit, unknown_principal)) == []


def test_principal_star_is_reported_even_without_known_accounts(kit):
    args = kit.args(BUCKET_POLICY, {"policy": doc(allow("*"))}, "p", provider=kit.provider())
    [(message, _)] = kit.run(ORG_ONLY, args)
    assert message.startswith("bucket policy 'p' statement #1 allows principal '*' without an organisation condition;")


# -- S3 statements carry a resource-account condition --------------------------------------------

PERIMETER = {"StringEquals": {"s3:ResourceAccount": [ACCOUNT]}}


def identity(*statements):
    return doc(*[{k: v for k, v in s.items() if k != "Principal"} for s in statements])


@pytest.mark.parametrize("resource_type", [POLICY, ROLE_POLICY])
@pytest.mark.parametrize("condition", [PERIMETER, {"StringEquals": {"aws:ResourceAccount": ACCOUNT}},
                                       {"StringEquals": {"aws:ResourceOrgID": "o-abc123"}}])
def test_s3_statements_with_a_resource_perimeter_are_compliant(kit, resource_type, condition):
    document = identity(allow(None, ["s3:GetObject", "s3:PutObject"], Condition=condition),
                        allow(None, ["s3:ListAllMyBuckets", "s3:PutAccountPublicAccessBlock"], "*"),
                        allow(None, "kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k"),
                        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    assert kit.run(RESOURCE_ACCOUNT, kit.args(resource_type, {"policy": document})) == []


@pytest.mark.parametrize("statement", [
    allow(None, "s3:GetObject"),
    allow(None, "s3:*", "arn:aws:s3:::*-prod-*"),
    allow(None, "*", "*"),
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    allow(None, "s3:GetObject", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
])
def test_s3_statements_without_a_resource_perimeter_are_reported(kit, statement):
    [(message, _)] = kit.run(RESOURCE_ACCOUNT, kit.args(POLICY, {"policy": identity(statement)}, "boundary"))
    assert message.startswith("IAM Policy 'boundary': statement #1 allows S3 actions on ")
    assert message.endswith("required: a Condition on s3:ResourceAccount or aws:ResourceAccount or "
                            "aws:ResourceOrgID or aws:ResourceOrgPaths (e.g. StringEquals s3:ResourceAccount: "
                            "[<the platform's account ids>])")


def test_role_inline_s3_statements_are_checked(kit):
    props = {"inlinePolicies": [{"name": "data", "policy": identity(allow(None, "s3:PutObject"))}]}
    [(message, _)] = kit.run(RESOURCE_ACCOUNT, kit.args(ROLE, props, "training"))
    assert message.startswith("IAM role 'training' inline policy 'data': statement #1 allows S3 actions")


def test_unknown_identity_policy_is_not_a_violation(kit):
    assert kit.run(RESOURCE_ACCOUNT, kit.args(POLICY, {"policy": kit.unknown})) == []


# -- SageMaker roles deny jobs outside the VPC --------------------------------------------------

TRUST = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"})
VPC_ACTIONS = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob",
               "sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateModel"]
DENY_NO_VPC = {"Sid": "DenyWithoutVpc", "Effect": "Deny", "Action": VPC_ACTIONS, "Resource": "*",
               "Condition": {"Null": {"sagemaker:VpcSubnets": "true", "sagemaker:VpcSecurityGroupIds": "true"}}}
DENY_OTHER_SUBNETS = {"Sid": "DenyOtherSubnets", "Effect": "Deny", "Action": "sagemaker:Create*", "Resource": "*",
                      "Condition": {"ForAnyValue:StringNotEquals": {
                          "sagemaker:VpcSubnets": ["subnet-1"], "sagemaker:VpcSecurityGroupIds": ["sg-1"]}}}
WORK = allow(None, "sagemaker:CreateTrainingJob", "*")


def role(kit, **props):
    return kit.resource(ROLE, {"name": "fraud-dev-sagemaker-execution", "assumeRolePolicy": TRUST, **props},
                        "fraud-dev-sagemaker-execution")


def role_policy(kit, target, *statements, name="execution-policy"):
    return kit.resource(ROLE_POLICY, {"role": kit.unknown, "policy": identity(*statements)}, name,
                        deps={"role": [target]})


@pytest.mark.parametrize("denies", [[DENY_NO_VPC], [DENY_OTHER_SUBNETS]])
def test_role_policy_denying_vpc_less_jobs_is_compliant(kit, denies):
    execution = role(kit)
    assert kit.run(SAGEMAKER_VPC, kit.stack(execution, role_policy(kit, execution, WORK, *denies))) == []


def test_inline_or_attached_or_boundary_denies_count(kit):
    inline = role(kit, inlinePolicies=[{"name": "guard", "policy": identity(DENY_NO_VPC)}])
    assert kit.run(SAGEMAKER_VPC, kit.stack(inline)) == []
    boundary = kit.resource(POLICY, {"name": "workload-boundary", "policy": identity(WORK, DENY_NO_VPC)},
                            "workload-boundary")
    capped = role(kit, permissionsBoundary="arn:aws:iam::111122223333:policy/workload-boundary")
    assert kit.run(SAGEMAKER_VPC, kit.stack(capped, boundary)) == []
    guard = kit.resource(POLICY, {"name": "guard", "policy": identity(DENY_NO_VPC)}, "guard")
    attached = role(kit)
    attachment = kit.resource(ATTACHMENT, {"role": kit.unknown, "policyArn": kit.unknown}, "attach",
                              deps={"role": [attached], "policyArn": [guard]})
    assert kit.run(SAGEMAKER_VPC, kit.stack(attached, guard, attachment)) == []


def test_role_without_the_deny_is_reported(kit):
    execution = role(kit)
    [(message, urn)] = kit.run(SAGEMAKER_VPC, kit.stack(execution, role_policy(kit, execution, WORK)))
    assert urn == execution.urn
    assert message.startswith(
        "IAM role 'fraud-dev-sagemaker-execution' (assumed by sagemaker.amazonaws.com) doesn't deny "
        "sagemaker:CreateTrainingJob without sagemaker:VpcSubnets; ")


def test_a_deny_on_subnets_alone_suffices_as_the_api_takes_security_groups_with_them(kit):
    execution = role(kit)
    subnets_only = {**DENY_NO_VPC, "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}}}
    assert kit.run(SAGEMAKER_VPC, kit.stack(execution, role_policy(kit, execution, subnets_only))) == []
    groups_only = {**DENY_NO_VPC, "Condition": {"Null": {"sagemaker:VpcSecurityGroupIds": "true"}}}
    [(message, _)] = kit.run(SAGEMAKER_VPC, kit.stack(execution, role_policy(kit, execution, groups_only)))
    assert "sagemaker:CreateModel without sagemaker:VpcSubnets;" in message


def test_a_deny_of_another_role_does_not_count(kit):
    execution, other = role(kit), kit.resource(ROLE, {"name": "other", "assumeRolePolicy": TRUST}, "other")
    violations = kit.run(SAGEMAKER_VPC, kit.stack(execution, other, role_policy(kit, other, DENY_NO_VPC)))
    assert [urn for _, urn in violations] == [execution.urn]


def test_roles_sagemaker_does_not_assume_are_not_checked(kit):
    trust = doc({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert kit.run(SAGEMAKER_VPC, kit.stack(kit.resource(ROLE, {"assumeRolePolicy": trust}, "replication"))) == []


def test_unknown_policy_of_the_role_is_not_a_violation(kit):
    execution = role(kit)
    unknown = kit.resource(ROLE_POLICY, {"role": kit.unknown, "policy": kit.unknown}, "p", deps={"role": [execution]})
    assert kit.run(SAGEMAKER_VPC, kit.stack(execution, unknown)) == []
