"""Issue 7 item 1, the data perimeter: data tied to this account and VPC, keys to the team's roles, and
CI managing resources without reading data. Each test fails on the blueprint before the perimeter."""

import pytest

from tests.infra.iam_eval import allowed, denied

POLICY_TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")
KEY = "aws:kms/key:Key"
ACCOUNT = {"platform-prod": "222222222222", "platform-dev": "111111111111"}


def identity_statements(view):
    for resource in view.resources:
        if resource.type in POLICY_TYPES:
            for statement in view.document(resource)["Statement"]:
                yield resource.name, statement


def actions(statement) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


@pytest.mark.parametrize("stack", ["platform-prod", "platform-dev", "fraud-prod", "fraud-dev"])
def test_every_s3_allow_of_every_identity_policy_is_tied_to_the_account(plans, stack):
    view = plans[stack]
    account = view.plan.outputs["accountId"]
    s3_statements = [(name, s) for name, s in identity_statements(view)
                     if s["Effect"] == "Allow" and any(a.startswith("s3:") for a in actions(s))]
    assert s3_statements
    for name, statement in s3_statements:
        assert statement["Condition"]["StringEquals"]["s3:ResourceAccount"] == account, (name, statement)


def test_workload_boundary_no_longer_reaches_another_accounts_prod_bucket(plans):
    boundary = plans["platform-prod"].document(plans["platform-prod"].named("platform-prod-workload-boundary"))
    foreign = "arn:aws:s3:::evil-prod-data/secret.csv"
    assert not allowed(boundary["Statement"], "s3:GetObject", foreign, {"s3:ResourceAccount": "999999999999"})
    assert allowed(boundary["Statement"], "s3:GetObject", "arn:aws:s3:::fraud-prod-raw-222222222222-euw1/x",
                   {"s3:ResourceAccount": "222222222222"})


@pytest.mark.parametrize("stack", ["platform-prod", "platform-dev"])
def test_every_endpoint_admits_only_this_accounts_principals(plans, stack):
    view = plans[stack]
    account = ACCOUNT[stack]
    endpoints = view.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoints
    for endpoint in endpoints:
        statements = view.document(endpoint)["Statement"]
        first = statements[0]
        assert first["Condition"]["StringEquals"]["aws:PrincipalAccount"] == account, endpoint.name
        if endpoint.inputs["vpcEndpointType"] == "Gateway":
            service = endpoint.inputs["serviceName"].rsplit(".", 1)[-1]
            key = "s3:ResourceAccount" if service == "s3" else "aws:ResourceAccount"
            assert first["Condition"]["StringEquals"][key] == account
            assert first["Action"] == f"{service}:*"
    s3 = view.named(f"{stack}-s3-endpoint-euw1")
    layers = view.document(s3)["Statement"][1]
    assert layers["Resource"] == "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"
    assert layers["Action"] == "s3:GetObject"


def data_and_model_buckets(view):
    return [b for b in view.of_type("aws:s3/bucket:Bucket") if "-logs-" not in b.inputs["bucket"]]


def perimeter(view, bucket):
    (policy,) = view.attached_to(bucket, "aws:s3/bucketPolicy:BucketPolicy")
    return [s for s in view.document(policy)["Statement"] if s.get("Sid") == "DenyObjectAccessOutsidePerimeter"]


def test_prod_team_buckets_refuse_object_access_from_outside_the_platforms_endpoints(plans):
    view = plans["fraud-prod"]
    endpoints = sorted(n["s3EndpointId"] for n in plans["platform-prod"].plan.outputs["networks"].values())
    buckets = data_and_model_buckets(view)
    assert len(buckets) == 5
    for bucket in buckets:
        (statement,) = perimeter(view, bucket)
        arn = f"arn:aws:s3:::{bucket.inputs['bucket']}"
        assert sorted(statement["Condition"]["StringNotEqualsIfExists"]["aws:SourceVpce"]) == endpoints
        assert statement["Condition"]["ArnNotLikeIfExists"]["aws:PrincipalArn"] == [
            f"arn:aws:iam::222222222222:role/fraud-prod-{role}"
            for role in ("break-glass", "models-replication", "feature-store", "catalog-crawler")]
        laptop = {"aws:ViaAWSService": "false", "aws:PrincipalIsAWSService": "false",
                  "aws:PrincipalArn": "arn:aws:iam::222222222222:role/fraud-prod-sagemaker-execution"}
        assert denied([statement], "s3:GetObject", f"{arn}/data.csv", laptop)
        assert not denied([statement], "s3:GetObject", f"{arn}/data.csv", {**laptop, "aws:SourceVpce": endpoints[0]})
        assert not denied([statement], "s3:GetObject", f"{arn}/data.csv",
                          {**laptop, "aws:PrincipalArn": "arn:aws:iam::222222222222:role/fraud-prod-break-glass"})
        assert not denied([statement], "s3:PutBucketPolicy", arn, laptop)  # CI manages buckets from outside
    assert not any(perimeter(view, b) for b in view.of_type("aws:s3/bucket:Bucket") if "-logs-" in b.inputs["bucket"])


def test_dev_team_buckets_stay_reachable_from_laptops(plans):
    view = plans["fraud-dev"]
    assert not any(perimeter(view, b) for b in data_and_model_buckets(view))
    assert not [r for r in view.of_type("aws:iam/role:Role") if r.name.endswith("break-glass")]
    assert view.plan.outputs["breakGlassRoleArn"] is None


def test_break_glass_role_needs_mfa_and_only_reads(plans):
    view = plans["fraud-prod"]
    role = view.named("fraud-prod-break-glass", "aws:iam/role:Role")
    (trust,) = view.document(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert role.inputs["maxSessionDuration"] == 3600
    policy = view.document(view.named("fraud-prod-break-glass-policy"))["Statement"]
    granted = {a for s in policy for a in actions(s)}
    assert granted == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion",
                       "kms:Decrypt", "kms:DescribeKey"}
    assert view.plan.outputs["breakGlassRoleArn"] == "arn:aws:iam::222222222222:role/fraud-prod-break-glass"


@pytest.mark.parametrize("key,users", [
    ("fraud-prod-data-euw1", ["sagemaker-execution", "feature-store", "catalog-crawler", "break-glass",
                              "digits-pipeline", "scorer-pipeline"]),   # retraining's Prepare step: the data key
    ("fraud-prod-models-euw1", ["sagemaker-execution", "models-replication", "break-glass", "digits-pipeline",
                                "scorer-pipeline"]),
    ("fraud-prod-models-use1", ["sagemaker-execution", "models-replication", "break-glass", "digits-pipeline",
                                "scorer-pipeline"]),
])
def test_team_keys_name_the_teams_principals_and_grant_only_for_aws_resources(plans, key, users):
    view = plans["fraud-prod"]
    statements = {s["Sid"]: s for s in view.document(view.named(key, KEY))["Statement"]}
    online_store = {"OnlineStoreCreation", "OnlineStoreGrants"} if "-data-" in key else set()   # CI, via SageMaker
    assert set(statements) == {"KeyAdministration", "UseThroughServices", "GrantsForAwsResources", *online_store}
    expected = [f"arn:aws:iam::222222222222:role/fraud-prod-{u}" for u in users]
    for sid in ("UseThroughServices", "GrantsForAwsResources"):
        assert statements[sid]["Condition"]["ArnLike"] == {"aws:PrincipalArn": expected}
    assert "kms:CreateGrant" not in statements["UseThroughServices"]["Action"]
    assert statements["GrantsForAwsResources"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    region = key.rsplit("-", 1)[-1].replace("euw1", "eu-west-1").replace("use1", "us-east-1")
    ci = {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/platform-prod-ci-deploy",
          "kms:CallerAccount": "222222222222", "kms:ViaService": f"s3.{region}.amazonaws.com"}
    assert not allowed(statements.values(), "kms:Decrypt", "*", ci)
    assert allowed(statements.values(), "kms:Decrypt", "*", {**ci, "aws:PrincipalArn": expected[0]})


@pytest.mark.parametrize("stack", ["platform-prod", "fraud-prod", "fraud-dev"])
def test_create_grant_is_only_for_aws_resources_everywhere(plans, stack):
    view = plans[stack]
    documents = [view.document(r) for r in view.resources if r.type in (*POLICY_TYPES, KEY)]
    for document in documents:
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow" and any(a in ("kms:CreateGrant", "kms:*") for a in actions(statement)):
                assert statement["Condition"]["Bool"]["kms:GrantIsForAWSResource"] == "true", statement


def test_ci_reads_no_data_and_decrypts_nothing(plans):
    view = plans["platform-prod"]
    policy = view.ci_deploy_statements()
    bucket = "arn:aws:s3:::fraud-prod-raw-222222222222-euw1"
    key = "arn:aws:kms:eu-west-1:222222222222:key/11111111-2222-3333-4444-555555555555"
    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"):
        assert not allowed(policy, action, f"{bucket}/data.csv"), action
    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:Encrypt"):
        assert not allowed(policy, action, key), action
    own = {"s3:ResourceAccount": "222222222222"}
    assert allowed(policy, "s3:PutBucketPolicy", bucket, own) and allowed(policy, "kms:PutKeyPolicy", key)
    assert not allowed(policy, "s3:PutBucketPolicy", bucket, {"s3:ResourceAccount": "999999999999"})
    assert not any(a.endswith(":*") or a == "*" for s in policy for a in actions(s))


@pytest.mark.parametrize("stack", ["platform-prod", "platform-dev", "fraud-prod", "vision-dev"])
def test_describe_log_groups_is_granted_on_star_only(plans, stack):
    for name, statement in identity_statements(plans[stack]):
        if "logs:DescribeLogGroups" in actions(statement):
            assert statement["Resource"] == "*", (name, statement)


def test_identity_policies_name_no_whole_service(plans):
    for stack in ("platform-prod", "fraud-prod"):
        for name, statement in identity_statements(plans[stack]):
            if statement["Effect"] == "Allow":
                assert not [a for a in actions(statement) if a.endswith(":*") or a == "*"], (stack, name)


def test_platform_outputs_name_each_regions_s3_endpoint_and_sagemaker_group(plans):
    view = plans["platform-prod"]
    for region, network in view.plan.outputs["networks"].items():
        code = {"eu-west-1": "euw1", "us-east-1": "use1"}[region]
        assert network["s3EndpointId"] == view.named(f"platform-prod-s3-endpoint-{code}").id
        assert network["sagemakerSecurityGroupId"] == view.named(f"platform-prod-sagemaker-sg-{code}").id
