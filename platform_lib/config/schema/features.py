"""The ``features`` section: a team's feature groups, declared once in its stack config; the provisioned
SageMaker feature groups and the ``platform_lib.features`` client are both built from it.

A declaration in YAML (keys camelCase, like the rest of the stack config)::

    ml-platform:features:
      groups:
        - name: transactions
          description: One row per card transaction
          recordIdentifier: transaction_id
          eventTime: event_time
          features:
            - {name: transaction_id, type: String}
            - {name: event_time, type: String, description: ISO-8601 UTC}
            - {name: amount, type: Fractional}
          onlineStore: {enabled: true, ttl: 30d}
          offlineStore: {enabled: true}
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import Model, Section, refuse_repeats

FeatureType = Literal["Integral", "Fractional", "String"]
FEATURE_TYPES: tuple[FeatureType, ...] = ("Integral", "Fractional", "String")

# Columns the offline store adds to every record: a feature may not be called so.
RESERVED_NAMES = ("write_time", "api_invocation_time", "is_deleted")

# The online store's TTL units (TtlDuration.Unit), by the suffix a declaration uses.
TTL_UNITS = {"s": "Seconds", "m": "Minutes", "h": "Hours", "d": "Days", "w": "Weeks"}
_TTL = re.compile(r"^([1-9][0-9]*)([smhdw])$")

# Lowercase so that names are the same in the online store, Glue, Athena and DuckDB (Glue lowercases).
FEATURE_NAME = r"^[a-z][a-z0-9_]{0,63}$"
GROUP_NAME = r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$"
MAX_FEATURES = 2500  # SageMaker's limit of feature definitions per group


class Ttl(Model):
    """A time to live such as ``30d``: the online store hard-deletes a record that long after its
    event time."""

    value: int
    unit: Literal["Seconds", "Minutes", "Hours", "Days", "Weeks"]

    def seconds(self) -> int:
        factor = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}[self.unit]
        return self.value * factor


def _parse_ttl(value: object) -> object:
    if isinstance(value, str):
        match = _TTL.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a TTL; write a positive whole number and a unit, e.g. 30d "
                             f"(units: {', '.join(f'{k}={v}' for k, v in TTL_UNITS.items())})")
        return {"value": int(match.group(1)), "unit": TTL_UNITS[match.group(2)]}
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{value} has no unit; write e.g. {value}d (units: {', '.join(TTL_UNITS)})")
    return value


class Feature(Model):
    name: Annotated[str, Field(pattern=FEATURE_NAME, description="lowercase letters, digits, '_'")]
    type: FeatureType
    list: bool = Field(default=False, description="a list of values of `type` (needs the online store)")
    description: str = Field(default="", max_length=255)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name in RESERVED_NAMES:
            raise ValueError(f"{name!r} is reserved (the offline store adds {', '.join(RESERVED_NAMES)})")
        return name


class OnlineStore(Model):
    enabled: bool = True
    ttl: Ttl | None = Field(default=None, description="e.g. 30d; none keeps records until overwritten")

    @field_validator("ttl", mode="before")
    @classmethod
    def _ttl(cls, value: object) -> object:
        return _parse_ttl(value)

    @model_validator(mode="after")
    def _ttl_needs_store(self) -> OnlineStore:
        if self.ttl is not None and not self.enabled:
            raise ValueError("ttl is set but the online store is disabled; remove ttl or enable the store")
        return self


class OfflineStore(Model):
    enabled: bool = True


class FeatureGroup(Model):
    """One feature group: records keyed by `record_identifier`, versioned by `event_time`.

    Fields are validated in this order, so each check can name the key that is wrong.
    """

    name: Annotated[str, Field(pattern=GROUP_NAME, description="lowercase letters, digits, '-', 2-40 chars")]
    description: str = Field(min_length=1, max_length=128)
    features: list[Feature] = Field(min_length=2, max_length=MAX_FEATURES)
    record_identifier: str
    event_time: str
    online_store: OnlineStore = OnlineStore()
    offline_store: OfflineStore = OfflineStore()

    @field_validator("features")
    @classmethod
    def _unique_features(cls, features: list[Feature]) -> list[Feature]:
        refuse_repeats([f.name for f in features])
        return features

    @field_validator("record_identifier", "event_time")
    @classmethod
    def _declared_feature(cls, name: str, info: ValidationInfo) -> str:
        features = {f.name: f for f in info.data.get("features", [])}
        if not features:
            return name  # the features list itself is invalid and reported
        if name not in features:
            raise ValueError(f"{name!r} is not one of the declared features ({', '.join(features)})")
        feature = features[name]
        if feature.list:
            raise ValueError(f"{name!r} is a list feature; a record identifier or event time is a single value")
        if info.field_name == "event_time" and feature.type == "Integral":
            raise ValueError(f"{name!r} is Integral; the event time must be String (ISO-8601) or Fractional "
                             "(seconds since the epoch)")
        return name

    @field_validator("online_store")
    @classmethod
    def _lists_need_online(cls, online: OnlineStore, info: ValidationInfo) -> OnlineStore:
        lists = [f.name for f in info.data.get("features", []) if f.list]
        if lists and not online.enabled:
            raise ValueError(f"list feature(s) {', '.join(lists)} need the online store enabled (its InMemory "
                             "tier is the only one that stores collection types)")
        return online

    @field_validator("offline_store")
    @classmethod
    def _some_store(cls, offline: OfflineStore, info: ValidationInfo) -> OfflineStore:
        online = info.data.get("online_store")
        if online is not None and not online.enabled and not offline.enabled:
            raise ValueError("both stores are disabled; enable onlineStore, offlineStore or both")
        return offline

    def feature(self, name: str) -> Feature:
        return next(f for f in self.features if f.name == name)

    @property
    def has_lists(self) -> bool:
        return any(f.list for f in self.features)


class FeaturesConfig(Section):
    """The team's feature groups, and the limits of its data catalog (Glue, Athena)."""

    DEFAULTS = {
        "dev": {"queryLimitGb": 10},
        "staging": {"queryLimitGb": 50},
        "prod": {"queryLimitGb": 200},
    }

    groups: list[FeatureGroup] = Field(default_factory=list)
    query_limit_gb: int = Field(default=10, ge=1, le=100_000,
                                description="Athena: bytes one query may scan, in GB (the workgroup cancels beyond)")
    crawler_schedule: str = Field(default="cron(0 3 * * ? *)", pattern=r"^cron\(.+\)$",
                                  description="when the Glue crawler catalogs the curated tier (UTC)")

    @field_validator("groups")
    @classmethod
    def _unique_groups(cls, groups: list[FeatureGroup]) -> list[FeatureGroup]:
        refuse_repeats([g.name for g in groups])
        return groups

    def group(self, name: str) -> FeatureGroup:
        """The group of that name; ``KeyError`` naming the declared groups otherwise."""
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(f"unknown feature group {name!r}; declared: {', '.join(g.name for g in self.groups) or 'none'}")
