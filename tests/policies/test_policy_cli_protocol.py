"""The pack as the Pulumi CLI runs it: `python policies/` serving the analyzer gRPC protocol.

No Pulumi CLI here, so this test plays the engine: it starts the pack the way the python
language host does (``python <pack dir>``), then calls GetAnalyzerInfo, Configure (as
``--policy-pack-config policies/config/dev.json`` would), Analyze and AnalyzeStack with
preview-time unknowns and a provider whose defaultTags arrive JSON-encoded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from policies import pack
from policies.pack import RULES, levels_for

POLICIES_DIR = Path(pack.__file__).resolve().parent
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TAGS = {"team": "fraud", "env": "dev", "cost-center": "cc-1", "managed-by": "pulumi"}
LEVELS = {"advisory": proto.ADVISORY, "mandatory": proto.MANDATORY, "disabled": proto.DISABLED}


def struct(value: dict) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(value)
    return result


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:fraud-dev::ml-platform::{resource_type}::{name}"


PROVIDER = proto.AnalyzerProviderResource(
    type="pulumi:providers:aws", urn=urn("pulumi:providers:aws", "aws"), name="aws",
    properties=struct({"region": "eu-west-1", "defaultTags": json.dumps({"tags": TAGS})}))


def resource(resource_type: str, name: str, props: dict, deps: dict | None = None) -> proto.AnalyzerResource:
    return proto.AnalyzerResource(
        type=resource_type, urn=urn(resource_type, name), name=name, properties=struct(props),
        options=proto.AnalyzerResourceOptions(protect=False), provider=PROVIDER,
        dependencies=[u for urns in (deps or {}).values() for u in urns],
        propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in (deps or {}).items()})


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen([sys.executable, str(POLICIES_DIR)], cwd=POLICIES_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        line = process.stdout.readline().decode().strip()
        assert line.isdigit(), f"pack did not start: {line!r} {process.stderr.read(4000)!r}"
        channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_pack_describes_every_rule_mandatory_by_default(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == pack.PACK_NAME and info.supportsConfig
    assert [p.name for p in info.policies] == [r.id for r in RULES]
    assert {p.enforcementLevel for p in info.policies} == {proto.MANDATORY}
    schema = {p.name: p.configSchema for p in info.policies}["cloudwatch-log-group-encrypted-retained"]
    assert "minRetentionDays" in schema.properties


def test_configured_dev_pack_reports_resource_and_stack_violations(analyzer):
    # What the engine sends for --policy-pack-config policies/config/dev.json ("all" expanded).
    config = {rule_id: proto.PolicyConfig(enforcementLevel=LEVELS[level.value])
              for rule_id, level in levels_for("dev").items()}
    analyzer.Configure(proto.ConfigureAnalyzerRequest(policyConfig=config))

    key = analyzer.Analyze(proto.AnalyzeRequest(
        type="aws:kms/key:Key", urn=urn("aws:kms/key:Key", "data"), name="data",
        properties=struct({"description": "x", "policy": UNKNOWN}),
        options=proto.AnalyzerResourceOptions(), provider=PROVIDER))
    assert [(d.policyName, d.enforcementLevel) for d in key.diagnostics] == [
        ("kms-key-rotation-enabled", proto.ADVISORY)]

    untagged = analyzer.Analyze(proto.AnalyzeRequest(
        type="aws:ecr/repository:Repository", urn=urn("aws:ecr/repository:Repository", "images"),
        name="images", properties=struct({"name": "fraud-dev-images"}),
        options=proto.AnalyzerResourceOptions(), provider=proto.AnalyzerProviderResource(
            type="pulumi:providers:aws", urn=urn("pulumi:providers:aws", "bare"), name="bare",
            properties=struct({"region": "eu-west-1"}))))
    [tags] = [d for d in untagged.diagnostics if d.policyName == "required-tags"]   # ECR rules judge it too
    assert tags.policyName == "required-tags" and "missing tag(s) team, env, cost-center" in tags.message

    raw = bare = "aws:s3/bucket:Bucket"
    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    stack = analyzer.AnalyzeStack(proto.AnalyzeStackRequest(resources=[
        resource(raw, "raw", {"bucket": UNKNOWN}),
        resource(bare, "bare", {"bucket": "fraud-dev-bare"}),
        resource(sse, "raw-sse", {"bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}}]}, deps={"bucket": [urn(raw, "raw")]}),
    ]))
    encryption = [d for d in stack.diagnostics if d.policyName == "s3-bucket-kms-encryption"]
    assert [d.urn for d in encryption] == [urn(bare, "bare")]
    assert "bucket 'fraud-dev-bare' has no server-side encryption config" in encryption[0].message
    public = [d for d in stack.diagnostics if d.policyName == "s3-bucket-public-access-blocked"]
    assert sorted((d.urn, d.enforcementLevel) for d in public) == [
        (urn(bare, "bare"), proto.MANDATORY), (urn(raw, "raw"), proto.MANDATORY)]
    assert not [d for d in stack.diagnostics if "can't run policy" in d.message]
