"""Every name and name pattern comes from `Names`: the patterns match their own environment's names
(as IAM matches globs) and never another environment's."""

from fnmatch import fnmatchcase

import pytest

from infra.naming import Names, region_code
from platform_lib.config.schema import ENVIRONMENTS

ACCOUNT = "123456789012"
SCOPES = ("platform", "fraud", "risk-models")
PURPOSES = ("raw", "models", "logs", "sagemaker-execution", "models-replication", "ci-deploy", "flow-logs")


def iam_match(pattern: str, value: str) -> bool:
    """IAM's `*` and `?` (no character classes in IAM, and our names have no brackets)."""
    return fnmatchcase(value, pattern)


def names_of(scope: str, env: str) -> list[str]:
    n = Names(scope, env, ACCOUNT)
    return ([n.resource(p) for p in PURPOSES] + [n.resource(p, "us-east-1") for p in PURPOSES]
            + [n.bucket(p, "ap-southeast-2") for p in ("raw", "models", "logs")])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_glob_matches_its_names_and_no_other_environments(env):
    glob = Names("fraud", env, ACCOUNT).environment_glob()
    for scope in SCOPES:
        assert all(iam_match(glob, name) for name in names_of(scope, env))
        for other in set(ENVIRONMENTS) - {env}:
            assert not any(iam_match(glob, name) for name in names_of(scope, other)), (glob, other)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_arn_patterns_match_their_environments_arns_only(env):
    n = Names("fraud", env, ACCOUNT)
    for scope in SCOPES:
        mine, theirs = Names(scope, env, ACCOUNT), [Names(scope, o, ACCOUNT) for o in ENVIRONMENTS if o != env]
        assert iam_match(n.environment_role_arns(), mine.role_arn("sagemaker-execution"))
        assert iam_match(n.environment_policy_arns(), mine.policy_arn("workload-boundary"))
        assert iam_match(n.environment_bucket_arns()[0], f"arn:aws:s3:::{mine.bucket('raw', 'eu-west-1')}")
        assert iam_match(n.environment_bucket_arns()[1], f"arn:aws:s3:::{mine.bucket('raw', 'eu-west-1')}/k/v")
        for other in theirs:
            assert not iam_match(n.environment_role_arns(), other.role_arn("sagemaker-execution"))
            assert not iam_match(n.environment_policy_arns(), other.policy_arn("workload-boundary"))
            assert not any(iam_match(p, f"arn:aws:s3:::{other.bucket('raw', 'eu-west-1')}/k")
                           for p in n.environment_bucket_arns())


def test_flow_log_pattern_matches_every_region_of_its_environment_only():
    prod, dev = Names("platform", "prod", ACCOUNT), Names("platform", "dev", ACCOUNT)
    assert prod.flow_log_group("eu-west-1") == "/ml-platform/prod/vpc-flow-logs/eu-west-1"
    for region in ("eu-west-1", "us-east-1"):
        assert iam_match(prod.flow_log_groups_arn(), prod.log_group_arn(prod.flow_log_group(region), region))
        assert not iam_match(prod.flow_log_groups_arn(), dev.log_group_arn(dev.flow_log_group(region), region))


def test_sagemaker_pattern_is_the_teams_own_in_its_environment():
    fraud = Names("fraud", "prod", ACCOUNT)
    job = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/{}-prod-churn-2024"
    assert iam_match(fraud.sagemaker_resources_arn(), job.format("fraud"))
    assert not iam_match(fraud.sagemaker_resources_arn(), job.format("vision"))
    assert not iam_match(fraud.sagemaker_resources_arn(), job.replace("-prod-", "-dev-").format("fraud"))


def test_iam_arns_and_image_repositories():
    n = Names("platform", "prod", ACCOUNT)
    assert n.role_arn("ci-deploy") == "arn:aws:iam::123456789012:role/platform-prod-ci-deploy"
    assert n.policy_arn("ci-boundary") == "arn:aws:iam::123456789012:policy/platform-prod-ci-boundary"
    assert n.oidc_provider_arn() == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    assert Names("fraud", "dev", ACCOUNT).image_repositories_arns() == [
        "arn:aws:ecr:*:123456789012:repository/fraud/*", "arn:aws:ecr:*:123456789012:repository/ml-platform/*"]


@pytest.mark.parametrize("scope", ["ml-prod-tools", "dev", "staging-lab"])
def test_a_scope_containing_an_environment_word_is_refused(scope):
    with pytest.raises(ValueError, match="environment name"):
        Names(scope, "prod", ACCOUNT)


def test_bucket_names_are_unique_per_region_and_bounded():
    n = Names("fraud", "prod", ACCOUNT)
    assert n.bucket("raw", "eu-west-1") == "fraud-prod-raw-123456789012-euw1"
    assert region_code("ap-southeast-2") == "apse2" and region_code("ca-central-1") == "cac1"
    with pytest.raises(ValueError, match="longer than S3's 63 characters"):
        Names("a-very-long-team-nam", "staging", ACCOUNT).bucket("features-and-more", "ap-southeast-2")
