"""Shared helpers: plain values and unknowns, tags, links, IAM documents."""

from __future__ import annotations

import json

import pulumi.output
import pytest
from pulumi_policy import Secret
from pulumi_policy.proxy import unknown_checking_proxy

from policies import support
from policies.support import UNKNOWN


def test_plain_reads_cli_proxies_without_raising_on_unknowns(kit):
    proxied = unknown_checking_proxy({"a": {"b": [1.0, kit.unknown]}, "c": kit.unknown_bool})
    assert support.plain(proxied) == {"a": {"b": [1.0, UNKNOWN]}, "c": UNKNOWN}


def test_plain_unwraps_secrets_and_mock_unknowns(kit):
    value = {"s": kit.secret({"k": kit.secret("v")}), "p": Secret("x"), "u": pulumi.output.Unknown()}
    assert support.plain(value) == {"s": {"k": "v"}, "p": "x", "u": UNKNOWN}


def test_unknown_predicates(kit):
    assert support.is_unknown(kit.unknown) and support.is_unknown(UNKNOWN)
    assert not support.is_known(None) and not support.is_known(UNKNOWN) and support.is_known(0)
    assert not UNKNOWN  # never "set and true"


def test_numbers_and_booleans():
    assert support.as_number(30.0) == 30 and support.as_number("7") == 7
    assert support.as_number(True) is None and support.as_number(UNKNOWN) is None
    assert support.is_true(True) and support.is_true("true") and not support.is_true(UNKNOWN)


def test_effective_tags_merge_provider_defaults_and_own_tags(kit):
    args = kit.args("aws:s3/bucket:Bucket", {"tags": {"team": "vision", "extra": "1"}})
    tags = support.effective_tags(args)
    assert tags.complete
    assert dict(tags.tags) == {**kit.default_tags, "team": "vision", "extra": "1"}
    assert support.resource_env(args) == "dev"


def test_effective_tags_are_incomplete_when_a_source_is_unknown(kit):
    provider = kit.provider()
    provider.props = unknown_checking_proxy({"defaultTags": kit.unknown})
    tags = support.effective_tags(kit.args("aws:s3/bucket:Bucket", {"tags": {"team": "x"}}, provider=provider))
    assert not tags.complete and tags.get("team") == "x"


@pytest.mark.parametrize("resource_type, taggable", [
    ("aws:s3/bucket:Bucket", True),
    ("aws:s3/bucketV2:BucketV2", True),
    ("aws:iam/role:Role", True),
    ("aws:lambda/function:Function", True),  # pulumi_aws.lambda_
    ("aws:s3/bucketPolicy:BucketPolicy", False),
    ("aws:autoscaling/group:Group", False),  # tags list, but provider defaultTags don't apply
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", False),
])
def test_taggable_types_come_from_the_pulumi_aws_schema(resource_type, taggable):
    assert support.is_taggable(resource_type) is taggable


def test_unknown_aws_types_fall_back_to_having_tags():
    assert support.is_taggable("aws:future/thing:Thing", {"tags": {}})
    assert not support.is_taggable("aws:future/thing:Thing", {})
    assert not support.is_taggable("kubernetes:core/v1:Namespace", {"tags": {}})


def test_linked_targets_prefers_property_dependencies(kit):
    a, b = kit.bucket("a"), kit.bucket("b")
    # the value names b, but the engine's property dependency (authoritative) says a
    config = kit.resource("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "fraud-dev-b"}, "p", deps={"bucket": [a]})
    assert support.linked_targets(config, "bucket", [a, b], ("bucket",)) == [a]


def test_linked_targets_accepts_urn_strings(kit):
    a = kit.bucket("a")
    config = kit.resource("aws:s3/bucketPolicy:BucketPolicy", {"bucket": kit.unknown}, "p")
    config.property_dependencies = {"bucket": [a.urn]}
    assert support.linked_targets(config, "bucket", [a]) == [a]


def test_plain_dependencies_are_used_only_when_unambiguous(kit):
    source, logs = kit.bucket("raw"), kit.bucket("logs")
    logging = kit.resource("aws:s3/bucketLogging:BucketLogging", {"bucket": kit.unknown}, "l",
                           dependencies=[source, logs])
    assert support.linked_targets(logging, "bucket", [source, logs]) == []


def test_policy_documents_parse_from_json_or_dict():
    document = {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Sid": "S"}}
    for form in (document, json.dumps(document)):
        [statement] = support.statements(form)
        assert statement.allows and statement.actions == ("s3:GetObject",) and statement.any_resource
    assert support.statements(None) == [] and support.statements(UNKNOWN) == []
    with pytest.raises(support.InvalidPolicyDocument):
        support.parse_policy_document("[1, 2]")


@pytest.mark.parametrize("pattern, action, covered", [
    ("*", "s3:*", True), ("s3:*", "s3:*", True), ("S3:*", "s3:*", True), ("s3:Get*", "s3:*", False),
    ("iam:Pass*", "iam:PassRole", True), ("iam:PassRol?", "iam:PassRole", True),
    ("iam:GetRole", "iam:PassRole", False), ("s3:[a]", "s3:[a]", True),
])
def test_action_covers(pattern, action, covered):
    assert support.action_covers(pattern, action) is covered


def test_provider_inputs_are_decoded_from_json(kit):
    provider = kit.provider(accounts=["111122223333"], region="us-east-1")
    assert support.provider_account_ids(provider) == frozenset({"111122223333"})
    assert support.provider_region(provider) == "us-east-1"
    assert support.provider_input(provider, "defaultTags") == {"tags": kit.default_tags}
    assert support.provider_account_ids(kit.provider()) is None and support.provider_account_ids(None) is None


@pytest.mark.parametrize("protocol, low, high, port, opens", [
    ("tcp", 0, 65535, 22, True), ("6", 22.0, 22.0, 22, True), ("-1", 0, 0, 3389, True), ("udp", 0, 65535, 22, False),
    ("tcp", 443, 443, 22, False), ("tcp", UNKNOWN, 22, 22, UNKNOWN), (UNKNOWN, 22, 22, 22, UNKNOWN),
])
def test_opens_port(protocol, low, high, port, opens):
    assert support.opens_port(protocol, low, high, port) is opens


def test_role_documents_follow_role_policies_and_attachments_and_boundaries(kit):
    allow = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    role = kit.resource(support.ROLE, {"name": "r", "permissionsBoundary": "arn:aws:iam::1:policy/boundary",
                                       "inlinePolicies": [{"name": "inline", "policy": allow}]}, "r", dependencies=[])
    own = kit.resource(support.ROLE_POLICY, {"role": "r", "policy": allow}, "own", dependencies=[])
    other = kit.resource(support.ROLE_POLICY, {"role": "other", "policy": allow}, "other", dependencies=[])
    managed = kit.resource(support.POLICY, {"name": "managed", "policy": allow}, "managed")
    attach = kit.resource(support.ROLE_POLICY_ATTACHMENT, {"role": "r", "policyArn": kit.unknown}, "attach",
                          deps={"policyArn": [managed]})
    boundary = kit.resource(support.POLICY, {"name": "boundary", "policy": allow}, "boundary")
    resources = [role, own, other, managed, attach, boundary]
    assert [where for where, _ in support.role_documents(role, resources)] == [
        "IAM role 'r' inline policy 'inline'", "IAM RolePolicy 'own'", "IAM Policy 'managed'"]
    assert [where for where, _ in support.role_boundary_documents(role, resources)] == [
        "IAM Policy 'boundary' (permissions boundary)"]
    assert support.boundary_policies(resources) == [boundary]


def test_bucket_check_reports_missing_then_wrong_configs(kit):
    check = support.BucketCheck(config_types=("aws:s3/bucketX:BucketX",), missing="thing",
                                required=lambda bucket: "a good thing",
                                judge=lambda config, bucket: None if support.props_of(config).get("ok") else "is bad",
                                exempt=lambda bucket: bucket.name == "skipped")
    bare, bad, good, skipped = kit.bucket("bare"), kit.bucket("bad"), kit.bucket("good"), kit.bucket("skipped")
    wrong = kit.bucket_config("aws:s3/bucketX:BucketX", bad, {"ok": False})
    right = kit.bucket_config("aws:s3/bucketX:BucketX", good, {"ok": True})
    found: list[tuple[str, str | None]] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    check.validate(kit.stack(bare, bad, good, skipped, wrong, right), report)
    assert found == [("bucket 'fraud-dev-bare' has no thing; required: a good thing", bare.urn),
                     ("bucket 'fraud-dev-bad' is bad; required: a good thing", wrong.urn)]
