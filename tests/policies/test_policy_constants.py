"""Facts the standalone pack duplicates (it runs under the Pulumi CLI without platform_lib or infra)
are pinned equal to their single source: the config schema, the naming module, the pulumi SDK."""

from __future__ import annotations

import json

import pulumi.runtime.rpc as rpc
import pulumi_policy.proxy as proxy

from infra import naming
from platform_lib.config.schema import ENVIRONMENT_DEFAULTS
from platform_lib.config.schema import ENVIRONMENTS as SCHEMA_ENVIRONMENTS
from policies import support
from policies.pack import CONFIG_DIR, rule_config_for
from policies.rules.cloudwatch_log_group_encrypted_retained import CONFIG_KEY, MIN_RETENTION_DEFAULT

LOG_RULE = "cloudwatch-log-group-encrypted-retained"


def test_environments_are_the_schemas():
    assert support.ENVIRONMENTS == tuple(SCHEMA_ENVIRONMENTS)
    assert sorted(p.stem for p in CONFIG_DIR.glob("*.json")) == sorted(SCHEMA_ENVIRONMENTS)


def test_prod_log_retention_required_by_the_pack_is_the_schemas_prod_default():
    assert rule_config_for("prod", LOG_RULE)[CONFIG_KEY] == ENVIRONMENT_DEFAULTS["prod"]["logs"]["retentionDays"] == 365


def test_no_environment_default_retention_is_below_what_the_pack_requires():
    for env in SCHEMA_ENVIRONMENTS:
        required = rule_config_for(env, LOG_RULE).get(CONFIG_KEY, MIN_RETENTION_DEFAULT)
        assert ENVIRONMENT_DEFAULTS[env]["logs"]["retentionDays"] >= required, env


def test_purpose_tag_is_the_naming_modules():
    assert support.PURPOSE_TAG == naming.PURPOSE_TAG


def test_example_stacks_tag_what_the_pack_requires(plans):
    """Every provider of every example stack sends the required tags; platform stacks as team 'platform'."""
    for stack, view in plans.items():
        providers = [r for r in view.resources if r.type == "pulumi:providers:aws"]
        assert providers, stack
        for provider in providers:
            tags = json.loads(provider.inputs["defaultTags"])["tags"]
            assert set(support.REQUIRED_TAGS) <= set(tags), stack
            assert tags["env"] == view.plan.environment and tags["env"] in support.ENVIRONMENTS
            assert (tags["team"] == support.PLATFORM_TEAM) is stack.startswith("platform-"), stack


def test_unknown_and_secret_markers_are_the_sdks():
    assert (support.SPECIAL_SIG_KEY, support.SECRET_SIG) == (rpc._special_sig_key, rpc._special_secret_sig)
    assert rpc.UNKNOWN == proxy.UNKNOWN_STRING_VALUE
    assert support.is_unknown(rpc.UNKNOWN)


def test_pool_label_is_the_gpu_objects():
    from platform_lib.config.schema.compute import GPU
    from policies.rules.gpu_taint_tolerated import POOL_LABEL

    assert POOL_LABEL == GPU.pool_label
