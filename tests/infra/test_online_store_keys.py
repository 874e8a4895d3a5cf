"""Issue 10: CI can create feature groups whose online store a team key encrypts. CreateFeatureGroup needs
the caller to use that key (SageMaker API reference, OnlineStoreSecurityConfig); the team's data key policy
names the CI role for exactly that, through SageMaker only, and the CI boundary lets it through. The CI
role's own policy still holds no key use: it reads no data."""

from __future__ import annotations

import pytest

from infra.documents import ONLINE_STORE_KEY_ACTIONS
from tests.infra.iam_eval import allowed

KEY = "aws:kms/key:Key"
CI = {"dev": "arn:aws:iam::111111111111:role/platform-dev-ci-deploy",
      "prod": "arn:aws:iam::222222222222:role/platform-prod-ci-deploy"}


def through(service: str, account: str, **extra: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.eu-west-1.amazonaws.com", "kms:CallerAccount": account, **extra}


def naming(statements: list[dict], principal: str) -> list[dict]:
    """The key policy statements whose principal is ``principal`` itself (not the account)."""
    return [s for s in statements if s.get("Principal") == {"AWS": principal}]


@pytest.mark.parametrize(("stack", "env", "account"), [("fraud-dev", "dev", "111111111111"),
                                                        ("fraud-prod", "prod", "222222222222")])
def test_the_data_key_lets_ci_create_online_stores_through_sagemaker_only(plans, stack, env, account):
    view = plans[stack]
    policy = view.document(view.named(f"{stack}-data-euw1", KEY))["Statement"]
    mine = naming(policy, CI[env])
    assert [s["Sid"] for s in mine] == ["OnlineStoreCreation", "OnlineStoreGrants"]
    key = f"arn:aws:kms:eu-west-1:{account}:key/any"
    for action in ONLINE_STORE_KEY_ACTIONS:
        assert allowed(mine, action, key, through("sagemaker", account)), action
        assert not allowed(mine, action, key, through("s3", account)), action        # not through S3
        assert not allowed(mine, action, key, {"kms:CallerAccount": account}), action  # not directly
        assert not allowed(mine, action, key, through("sagemaker", "999999999999")), action
    for_aws = through("sagemaker", account, **{"kms:GrantIsForAWSResource": "true"})
    assert allowed(mine, "kms:CreateGrant", key, for_aws)
    assert not allowed(mine, "kms:CreateGrant", key, through("sagemaker", account))
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:GenerateDataKeyWithoutPlaintext"):
        assert not allowed(mine, action, key, through("sagemaker", account)), action


def test_keys_of_stacks_without_an_online_store_do_not_name_ci(plans):
    for stack, view in plans.items():
        if stack.startswith("platform-"):
            continue
        online = any(g.inputs.get("onlineStoreConfig", {}).get("enableOnlineStore")
                     for g in view.of_type("aws:sagemaker/featureGroup:FeatureGroup"))
        for key in view.of_type(KEY):
            named = naming(view.document(key)["Statement"], CI["prod" if stack.endswith("prod") else "dev"])
            assert bool(named) == (online and key.name.startswith(f"{stack}-data-")), key.name
    assert not plans["vision-dev"].of_type("aws:sagemaker/featureGroup:FeatureGroup")   # the case above is real


@pytest.mark.parametrize(("env", "account"), [("dev", "111111111111"), ("prod", "222222222222")])
def test_the_ci_boundary_passes_the_key_policy_grant_and_its_policy_holds_no_key_use(plans, env, account):
    view = plans[f"platform-{env}"]
    boundary = view.document(view.named(f"platform-{env}-ci-boundary", "aws:iam/policy:Policy"))["Statement"]
    policy = view.ci_deploy_statements()   # every statement of the CI role's deploy policies
    key = f"arn:aws:kms:eu-west-1:{account}:key/any"
    for action in ONLINE_STORE_KEY_ACTIONS:
        assert allowed(boundary, action, key, through("sagemaker", account)), action
    for_aws = through("sagemaker", account, **{"kms:GrantIsForAWSResource": "true"})
    assert allowed(boundary, "kms:CreateGrant", key, for_aws)
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"):
        assert not allowed(boundary, action, key, through("s3", account)), action
        assert not allowed(boundary, action, key, {}), action
        assert not allowed(policy, action, key, through("sagemaker", account)), action   # only the key policy grants
    assert not allowed(boundary, "kms:CreateGrant", key, through("sagemaker", account))
