"""Feature group declarations: valid ones parse, each mistake is refused at its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from platform_lib.config.loader import ConfigError, load_stack_file
from platform_lib.config.schema import TeamConfig
from platform_lib.config.schema.features import FeaturesConfig

TRANSACTIONS: dict[str, Any] = {
    "name": "transactions",
    "description": "One row per card transaction",
    "recordIdentifier": "transaction_id",
    "eventTime": "event_time",
    "features": [
        {"name": "transaction_id", "type": "String"},
        {"name": "event_time", "type": "String", "description": "ISO-8601 UTC"},
        {"name": "amount", "type": "Fractional"},
        {"name": "merchant_tags", "type": "String", "list": True},
    ],
    "onlineStore": {"enabled": True, "ttl": "30d"},
}


def errors(groups):
    with pytest.raises(ValidationError) as info:
        FeaturesConfig.model_validate({"groups": groups})
    return [(".".join(map(str, e["loc"])), e["msg"].removeprefix("Value error, ")) for e in info.value.errors()]


def changed(**changes):
    group = copy.deepcopy(TRANSACTIONS)
    for key, value in changes.items():
        if value is None:
            group.pop(key)
        else:
            group[key] = value
    return group


def test_a_valid_declaration_parses_with_defaults():
    config = FeaturesConfig.model_validate({"groups": [TRANSACTIONS]})
    group = config.group("transactions")
    assert group.online_store.ttl is not None
    assert (group.online_store.ttl.value, group.online_store.ttl.unit) == (30, "Days")
    assert group.online_store.ttl.seconds() == 30 * 86400
    assert group.offline_store.enabled is True
    assert group.feature("merchant_tags").list and group.has_lists
    assert FeaturesConfig.model_validate({}).groups == []


def test_unknown_group_names_the_declared_ones():
    with pytest.raises(KeyError, match="unknown feature group 'cards'; declared: transactions"):
        FeaturesConfig.model_validate({"groups": [TRANSACTIONS]}).group("cards")


def test_duplicate_group_names():
    assert errors([TRANSACTIONS, TRANSACTIONS]) == [("groups", "'transactions' declared more than once")]


def test_duplicate_feature_names():
    features = TRANSACTIONS["features"] + [{"name": "amount", "type": "Integral"}]
    assert errors([changed(features=features)]) == [("groups.0.features", "'amount' declared more than once")]


@pytest.mark.parametrize("key", ["recordIdentifier", "eventTime"])
def test_missing_record_identifier_or_event_time(key):
    assert errors([changed(**{key: None})]) == [(f"groups.0.{key}", "Field required")]


@pytest.mark.parametrize("key", ["recordIdentifier", "eventTime"])
def test_record_identifier_and_event_time_must_be_declared_features(key):
    [(path, message)] = errors([changed(**{key: "customer_id"})])
    assert path == f"groups.0.{key}"
    assert message.startswith("'customer_id' is not one of the declared features (transaction_id, event_time")


def test_event_time_cannot_be_integral_or_a_list():
    features = [{"name": "transaction_id", "type": "String"}, {"name": "event_time", "type": "Integral"}]
    [(path, message)] = errors([changed(features=features)])
    assert path == "groups.0.eventTime" and "must be String (ISO-8601) or Fractional" in message
    [(path, message)] = errors([changed(recordIdentifier="merchant_tags")])
    assert path == "groups.0.recordIdentifier" and "is a list feature" in message


@pytest.mark.parametrize("name", ["write_time", "api_invocation_time", "is_deleted"])
def test_reserved_feature_names(name):
    features = TRANSACTIONS["features"] + [{"name": name, "type": "String"}]
    [(path, message)] = errors([changed(features=features)])
    assert path == "groups.0.features.4.name"
    assert message.startswith(f"'{name}' is reserved")


@pytest.mark.parametrize("ttl, problem", [
    ("0d", "'0d' is not a TTL"), ("30 days", "'30 days' is not a TTL"), ("-1h", "'-1h' is not a TTL"),
    (30, "30 has no unit; write e.g. 30d"),
])
def test_bad_ttl(ttl, problem):
    [(path, message)] = errors([changed(onlineStore={"ttl": ttl})])
    assert path == "groups.0.onlineStore.ttl" and message.startswith(problem)


def test_ttl_on_a_disabled_online_store():
    group = changed(onlineStore={"enabled": False, "ttl": "7d"}, features=TRANSACTIONS["features"][:3])
    assert errors([group]) == [("groups.0.onlineStore", "ttl is set but the online store is disabled; "
                                                        "remove ttl or enable the store")]


def test_list_features_need_the_online_store():
    [(path, message)] = errors([changed(onlineStore={"enabled": False})])
    assert path == "groups.0.onlineStore" and message.startswith("list feature(s) merchant_tags need the online")


def test_a_group_needs_a_store():
    group = changed(onlineStore={"enabled": False}, offlineStore={"enabled": False},
                    features=TRANSACTIONS["features"][:3])
    assert errors([group]) == [("groups.0.offlineStore", "both stores are disabled; enable onlineStore, "
                                                         "offlineStore or both")]


@pytest.mark.parametrize("change, path", [
    ({"name": "Transactions"}, "groups.0.name"),
    ({"features": [{"name": "transaction_id", "type": "Text"}]}, "groups.0.features.0.type"),
    ({"features": [{"name": "Amount", "type": "String"}]}, "groups.0.features.0.name"),
    ({"onlineStore": {"ttl": "1d", "tier": "fast"}}, "groups.0.onlineStore.tier"),
])
def test_shapes_and_unknown_keys(change, path):
    assert path in [p for p, _ in errors([changed(**change)])]


STACK = """\
config:
  ml-platform:kind: team
  ml-platform:team: fraud
  ml-platform:environment: {environment}
  ml-platform:accountId: "111111111111"
  ml-platform:primaryRegion: eu-west-1
  ml-platform:costCenter: risk
  ml-platform:owners: [fraud-ml@example.com]
  ml-platform:features:
    groups:
      - name: transactions
        description: Card transactions
        recordIdentifier: card_id
        eventTime: {event_time}
        features:
          - {{name: card_id, type: String}}
          - {{name: event_time, type: String}}
          - {{name: is_deleted, type: String}}
        onlineStore: {{ttl: {ttl}}}
"""


def stack_file(tmp_path, environment="dev", event_time="event_time", ttl="30d", reserved="is_deleted"):
    path = tmp_path / "Pulumi.fraud-dev.yaml"
    path.write_text(STACK.format(environment=environment, event_time=event_time, ttl=ttl).replace(
        "is_deleted", reserved))
    return path


def test_loader_reports_file_yaml_path_and_line(tmp_path):
    path = stack_file(tmp_path, event_time="when", ttl="soon", reserved="amount")
    with pytest.raises(ConfigError) as info:
        load_stack_file(path)
    assert [str(p) for p in info.value.problems] == [
        "line 14: ml-platform:features.groups.0.eventTime: 'when' is not one of the declared features "
        "(card_id, event_time, amount)",
        "line 19: ml-platform:features.groups.0.onlineStore.ttl: 'soon' is not a TTL; write a positive whole "
        "number and a unit, e.g. 30d (units: s=Seconds, m=Minutes, h=Hours, d=Days, w=Weeks)",
    ]
    assert str(path) in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_stack_file(stack_file(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "line 18: ml-platform:features.groups.0.features.2.name: 'is_deleted' is reserved (the offline store "
        "adds write_time, api_invocation_time, is_deleted)"]


def test_stack_features_get_environment_defaults(tmp_path):
    config = load_stack_file(stack_file(tmp_path, reserved="amount")).config
    assert isinstance(config, TeamConfig)
    assert [g.name for g in config.features.groups] == ["transactions"]
    assert config.features.query_limit_gb == 10
    prod = load_stack_file(stack_file(tmp_path, environment="prod", reserved="amount")).config
    assert isinstance(prod, TeamConfig) and prod.features.query_limit_gb == 200
