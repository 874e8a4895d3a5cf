"""How long CloudWatch keeps a stack's logs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from .base import Section

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)


def log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
        raise ValueError(f"{value} is not a CloudWatch retention period; allowed: {allowed}")
    return value


RetentionDays = Annotated[int, AfterValidator(log_retention)]


class LogsConfig(Section):
    DEFAULTS = {
        "dev": {"retentionDays": 30},
        "staging": {"retentionDays": 90},
        "prod": {"retentionDays": 365},
    }

    retention_days: RetentionDays
