"""Physical-name collisions across stacks, by each name's scope of uniqueness."""

from platform_lib.plan.capture import CapturedResource
from platform_lib.plan.collisions import find_collisions


def provider(account, region="eu-west-1"):
    return CapturedResource("pulumi:providers:aws", "aws", f"urn:{account}:{region}", None, None, True,
                            {"allowedAccountIds": f'["{account}"]', "region": region})


def named(token, key, value, prov):
    return CapturedResource(token, f"logical-{value}", f"urn:{token}:{value}:{prov.urn}", None, prov.urn, True,
                            {key: value})


def stack(account, *resources, region="eu-west-1"):
    prov = provider(account, region)
    return [prov, *(named(token, key, value, prov) for token, key, value in resources)]


BUCKET = ("aws:s3/bucket:Bucket", "bucket", "shared-name")
ROLE = ("aws:iam/role:Role", "name", "shared-role")
ALIAS = ("aws:kms/alias:Alias", "name", "alias/shared")


def test_bucket_names_are_global_role_names_per_account():
    collisions = find_collisions({"a": stack("111111111111", BUCKET, ROLE), "b": stack("222222222222", BUCKET, ROLE)})
    assert [(c.type, c.name, c.scope) for c in collisions] == [("aws:s3/bucket:Bucket", "shared-name", "global")]


def test_aliases_collide_only_in_the_same_account_and_region():
    same = find_collisions({"a": stack("111111111111", ALIAS), "b": stack("111111111111", ALIAS)})
    assert [c.scope for c in same] == ["account 111111111111, eu-west-1"]
    assert sorted(stack for stack, _ in same[0].claims) == ["a", "b"]
    other_region = find_collisions({"a": stack("111111111111", ALIAS),
                                    "b": stack("111111111111", ALIAS, region="us-east-1")})
    assert other_region == []


def test_example_stacks_claim_distinct_names(plans):
    assert find_collisions({name: view.resources for name, view in plans.items()}) == []
