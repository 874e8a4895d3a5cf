"""Environment defaults come from the schema; the program reads the same config the files hold."""

from pathlib import Path

import pulumi
import pytest

from platform_lib.config import loader
from platform_lib.config.schema import ENVIRONMENT_DEFAULTS

STACKS = Path(__file__).resolve().parents[2] / "stacks"


def load(name):
    return loader.load_stack_file(STACKS / f"Pulumi.{name}.yaml").config


def test_dev_platform_is_cheap_and_prod_is_resilient():
    dev, prod = load("platform-dev"), load("platform-prod")
    assert (dev.network.az_count, dev.network.nat, dev.network.endpoints_multi_az) == (2, "single", False)
    assert (prod.network.az_count, prod.network.nat, prod.network.endpoints_multi_az) == (3, "per-az", True)
    assert dev.logs.retention_days < prod.logs.retention_days == 365
    assert not dev.protect_stateful and prod.protect_stateful


def test_stack_values_override_environment_defaults():
    prod = load("fraud-prod")
    assert prod.storage.raw_archive_after_days == 180          # from the file
    assert prod.storage.noncurrent_version_expiry_days == ENVIRONMENT_DEFAULTS["prod"]["storage"][
        "noncurrentVersionExpiryDays"]                          # from the schema


def test_serving_regions_default_to_primary():
    dev = load("fraud-dev")
    assert dev.serving_regions == [] and dev.serving == ["eu-west-1"] and dev.regions == ["eu-west-1"]
    prod = load("fraud-prod")
    assert prod.regions == ["eu-west-1", "us-east-1"]
    assert load("fraud-dev").platform_stack_name == "platform-dev"


@pytest.mark.parametrize("name", ["platform-dev", "platform-prod", "fraud-dev", "vision-prod"])
def test_program_reads_the_config_the_file_holds(name):
    stack_file = loader.load_stack_file(STACKS / f"Pulumi.{name}.yaml")
    pulumi.runtime.set_all_config(stack_file.pulumi_config)
    try:
        assert loader.from_pulumi_config() == stack_file.config
    finally:
        pulumi.runtime.set_all_config({})


def test_program_refuses_bad_config_without_a_traceback():
    pulumi.runtime.set_all_config({"ml-platform:kind": "team", "ml-platform:team": "x"})
    try:
        with pytest.raises(loader.ConfigError, match="ml-platform:environment: required key is missing"):
            loader.from_pulumi_config()
    finally:
        pulumi.runtime.set_all_config({})
