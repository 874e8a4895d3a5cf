"""The ``observability`` section of a team stack: who is alerted, and when."""

from __future__ import annotations

from pydantic import Field

from .base import Email, Section


class ObservabilityConfig(Section):
    """Alarm thresholds of the team's endpoints; alerts go to ``notify`` (the owners when empty)."""

    DEFAULTS = {
        "dev": {"latencyLimitMs": 2000, "serverErrorsLimit": 20},
        "staging": {"latencyLimitMs": 1000, "serverErrorsLimit": 10},
        "prod": {"latencyLimitMs": 500, "serverErrorsLimit": 5},
    }

    notify: list[Email] = Field(default_factory=list, description="alert emails; empty: the stack's owners")
    latency_limit_ms: int = Field(
        ge=1, le=3_600_000, description="alarm when an endpoint's p99 model latency exceeds it")
    server_errors_limit: int = Field(
        ge=0, le=1_000_000, description="alarm above this many 5xx answers of an endpoint in 5 minutes")
