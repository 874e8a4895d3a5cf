"""What rules read from a resource's aws provider: its default tags, accounts and region."""

from __future__ import annotations

import json
from typing import Any

from .unknowns import UNKNOWN, is_known, plain


def provider_input(provider: Any, key: str) -> Any:
    """One input of a provider, decoded: None when absent, :data:`UNKNOWN` when unknown.

    Explicit aws providers serialize object and list inputs as JSON strings
    (``pulumi.runtime.to_json``), so ``defaultTags`` arrives as ``'{"tags": {...}}'`` and
    ``allowedAccountIds`` as ``'["111122223333"]'`` under the CLI and under mocks; plain values are
    accepted too.
    """
    if provider is None:
        return None
    value = plain(getattr(provider, "props", None) or {}).get(key)
    if isinstance(value, str) and is_known(value) and value[:1] in "[{":
        try:
            return plain(json.loads(value))
        except ValueError:
            return UNKNOWN
    return value


def provider_account_ids(provider: Any) -> frozenset[str] | None:
    """The provider's ``allowedAccountIds`` (the accounts its stack deploys to); None when not known."""
    accounts = provider_input(provider, "allowedAccountIds")
    if not isinstance(accounts, list) or not accounts or not all(isinstance(a, str) for a in accounts):
        return None
    return frozenset(accounts)


def provider_region(provider: Any) -> str | None:
    """The provider's ``region``, or None when absent or unknown."""
    region = provider_input(provider, "region")
    return region if isinstance(region, str) and is_known(region) else None
