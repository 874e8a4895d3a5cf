"""Environment defaults come from the schema; the program reads the same config the files hold."""

from pathlib import Path

import pulumi
import pytest

from platform_lib.config import loader
from platform_lib.config.schema import PlatformConfig, TeamConfig

STACKS = Path(__file__).resolve().parents[2] / "stacks"


def load(name):
    return loader.load_stack_file(STACKS / f"Pulumi.{name}.yaml").config


def platform(name) -> PlatformConfig:
    config = load(name)
    assert isinstance(config, PlatformConfig)
    return config


def team(name) -> TeamConfig:
    config = load(name)
    assert isinstance(config, TeamConfig)
    return config


def test_dev_platform_is_cheap_and_prod_is_resilient():
    dev, prod = platform("platform-dev"), platform("platform-prod")
    assert (dev.network.az_count, dev.network.nat, dev.network.endpoints_multi_az) == (2, "single", False)
    assert (prod.network.az_count, prod.network.nat, prod.network.endpoints_multi_az) == (3, "per-az", True)
    assert (dev.logs.retention_days, prod.logs.retention_days) == (30, 365)
    assert (dev.protect_stateful, prod.protect_stateful) == (False, True)


def test_stack_values_override_environment_defaults():
    prod = team("fraud-prod").storage
    assert prod.raw_archive_after_days == 180                   # from the file
    assert prod.noncurrent_version_expiry_days == 365           # prod default of the schema
    assert prod.tiering_after_days == 0                         # default of the model
    assert team("fraud-dev").storage.noncurrent_version_expiry_days == 30


def test_serving_regions_default_to_primary():
    dev = team("fraud-dev")
    assert dev.serving_regions == []
    assert dev.serving == ["eu-west-1"]
    assert dev.regions == ["eu-west-1"]
    assert dev.platform_stack_name == "platform-dev"
    prod = team("fraud-prod")
    assert prod.serving == ["eu-west-1", "us-east-1"]
    assert prod.regions == ["eu-west-1", "us-east-1"]


@pytest.mark.parametrize("name", ["platform-dev", "platform-prod", "fraud-dev", "vision-prod"])
def test_program_reads_the_config_the_file_holds(name):
    stack_file = loader.load_stack_file(STACKS / f"Pulumi.{name}.yaml")
    pulumi.runtime.set_all_config(stack_file.pulumi_config)
    try:
        assert loader.from_pulumi_config() == stack_file.config
    finally:
        pulumi.runtime.set_all_config({})


def test_program_refuses_bad_config_without_a_traceback():
    pulumi.runtime.set_all_config({"ml-platform:kind": "team", "ml-platform:team": "x",
                                   "ml-platform:environment": "dev", "ml-platform:network": '{"azCount": 2}'})
    try:
        with pytest.raises(loader.ConfigError) as caught:
            loader.from_pulumi_config()
    finally:
        pulumi.runtime.set_all_config({})
    assert caught.value.source == f"stack {pulumi.get_stack()}"
    assert [str(p) for p in caught.value.problems] == [
        "ml-platform:accountId: required key is missing",
        "ml-platform:primaryRegion: required key is missing",
        "ml-platform:costCenter: required key is missing",
        "ml-platform:owners: required key is missing",
        "ml-platform:team: 'x' is not allowed: 3-20 lowercase letters, digits and '-', starting with a letter "
        "and not ending with '-'",
        "ml-platform:network: unknown key",
    ]
