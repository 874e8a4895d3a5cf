"""Declarations shared by the feature-store tests."""

from __future__ import annotations

import pytest

from platform_lib.config.schema.features import FeaturesConfig

DECLARATIONS = {
    "groups": [
        {
            "name": "transactions",
            "description": "Card transactions",
            "recordIdentifier": "card_id",
            "eventTime": "event_time",
            "features": [
                {"name": "card_id", "type": "String"},
                {"name": "event_time", "type": "String"},
                {"name": "amount", "type": "Fractional"},
                {"name": "count_24h", "type": "Integral"},
                {"name": "merchants", "type": "String", "list": True},
            ],
            "onlineStore": {"ttl": "3650d"},
        },
        {
            "name": "customers",
            "description": "Customer profiles",
            "recordIdentifier": "customer_id",
            "eventTime": "updated_at",
            "features": [
                {"name": "customer_id", "type": "Integral"},
                {"name": "updated_at", "type": "Fractional"},
                {"name": "segment", "type": "String"},
            ],
            "onlineStore": {"enabled": False},
        },
    ]
}


@pytest.fixture
def declarations() -> FeaturesConfig:
    return FeaturesConfig.model_validate(DECLARATIONS)
