"""The ``budget`` section of a team stack: the monthly AWS Budget of the team's cost center."""

from __future__ import annotations

from pydantic import Field

from .base import Section


class BudgetConfig(Section):
    """A monthly cost budget over the stack's ``cost-center`` tag, alerting its owners at 80% and 100%
    of actual and of forecast spend."""

    DEFAULTS = {
        "dev": {"monthlyUsd": 1000},
        "staging": {"monthlyUsd": 2000},
        "prod": {"monthlyUsd": 10000},
    }

    monthly_usd: int = Field(ge=1, le=10_000_000, description="the budget per calendar month, in USD")
