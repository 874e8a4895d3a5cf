"""Environment defaults: declared per section, merged deeply under a stack's own values."""

from __future__ import annotations

from pydantic import Field

from platform_lib.config import schema
from platform_lib.config.schema import (
    ENVIRONMENT_DEFAULTS,
    BaselineConfig,
    BudgetConfig,
    CiConfig,
    ContainerRegistryConfig,
    FeaturesConfig,
    LogsConfig,
    Model,
    ModelRegistryConfig,
    NetworkConfig,
    ObservabilityConfig,
    PerimeterConfig,
    PlatformConfig,
    Section,
    ServingConfig,
    StorageConfig,
    TeamConfig,
    TenancyConfig,
    TrackingConfig,
    deep_merge,
    sections,
)


def test_lists_of_named_items_merge_by_name_and_mappings_key_by_key():
    defaults = {"pools": [{"name": "system", "min": 2, "labels": {"role": "system"}}, {"name": "cpu", "min": 0}],
                "limits": {"cpu": 4, "memory": "8Gi"}}
    given = {"pools": [{"name": "gpu", "min": 0}, {"name": "system", "labels": {"tier": "a"}}],
             "limits": {"cpu": 8}}
    assert deep_merge(defaults, given) == {
        "pools": [{"name": "system", "min": 2, "labels": {"role": "system", "tier": "a"}},
                  {"name": "cpu", "min": 0},
                  {"name": "gpu", "min": 0}],
        "limits": {"cpu": 8, "memory": "8Gi"},
    }


def test_a_plain_list_or_scalar_replaces_the_default():
    assert deep_merge({"zones": ["a", "b", "c"], "n": 3}, {"zones": ["a"], "n": 1}) == {"zones": ["a"], "n": 1}


def test_merging_does_not_alter_the_defaults():
    defaults = {"pools": [{"name": "system", "min": 2}]}
    deep_merge(defaults, {"pools": [{"name": "system", "min": 5}]})
    assert defaults == {"pools": [{"name": "system", "min": 2}]}


def test_sections_are_found_from_field_types():
    assert sections(PlatformConfig) == {"logs": LogsConfig, "network": NetworkConfig, "ci": CiConfig,
                                        "baseline": BaselineConfig, "compute": schema.ComputeConfig,
                                        "containerRegistry": ContainerRegistryConfig, "tracking": TrackingConfig}
    assert sections(TeamConfig) == {"logs": LogsConfig, "storage": StorageConfig, "perimeter": PerimeterConfig,
                                    "tenancy": TenancyConfig,
                                    "features": FeaturesConfig, "modelRegistry": ModelRegistryConfig,
                                    "observability": ObservabilityConfig, "budget": BudgetConfig,
                                    "serving": ServingConfig}


def test_environment_defaults_are_collected_from_the_sections():
    assert ENVIRONMENT_DEFAULTS["staging"] == {
        "logs": {"retentionDays": 90},
        "network": {"azCount": 2, "nat": "single", "endpointsMultiAz": False},
        "storage": {"noncurrentVersionExpiryDays": 90},
        "baseline": {"accountPublicAccessBlock": False, "ebsEncryptionByDefault": False, "cloudTrail": False,
                     "guardDuty": False, "configRecorder": False},
        "perimeter": {"enforced": True},
        "compute": {"spotAllowed": True, "nodePools": [{"name": "system", "system": True,
                                                         "instanceTypes": ["m6i.large"], "minSize": 2, "maxSize": 4}]},
        "tenancy": {"quota": {"cpu": "32", "memory": "128Gi", "gpus": 4}},
        "features": {"queryLimitGb": 50},
        "containerRegistry": {"untaggedExpiryDays": 7, "keepReleases": 20},
        "tracking": {"size": "Small"},
        "observability": {"latencyLimitMs": 1000, "serverErrorsLimit": 10},
        "budget": {"monthlyUsd": 2000},
        "serving": {"minCapacity": 1, "rolloutStrategy": "canary", "dataCapturePercent": 0},
    }
    assert ENVIRONMENT_DEFAULTS["prod"]["network"] == {"azCount": 3, "nat": "per-az", "endpointsMultiAz": True}


class Pool(Model):
    name: str
    min_size: int
    max_size: int


class ComputeConfig(Section):
    DEFAULTS = {"prod": {"pools": [{"name": "system", "minSize": 2, "maxSize": 4}]}}

    pools: list[Pool] = Field(default_factory=list)


class TeamWithCompute(TeamConfig):
    compute: ComputeConfig = Field(default_factory=ComputeConfig)


def test_a_new_section_is_a_module_and_a_field():
    values = {"kind": "team", "team": "fraud", "environment": "prod", "accountId": "222222222222",
              "primaryRegion": "eu-west-1", "costCenter": "risk", "owners": ["a@example.com"],
              "compute": {"pools": [{"name": "system", "maxSize": 8}, {"name": "gpu", "minSize": 0, "maxSize": 2}]}}
    config = TeamWithCompute.model_validate(values)
    assert [(p.name, p.min_size, p.max_size) for p in config.compute.pools] == [("system", 2, 8), ("gpu", 0, 2)]
    assert config.storage.noncurrent_version_expiry_days == 365
    dev = TeamWithCompute.model_validate({**values, "environment": "dev", "compute": {}})
    assert dev.compute.pools == []
