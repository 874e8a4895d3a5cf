"""Lifecycle of a team's data lake."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import PER_ENVIRONMENT, Invalid, Section


class StorageConfig(Section):
    """Lifecycle of the team's data lake."""

    DEFAULTS = {
        "dev": {"noncurrentVersionExpiryDays": 30},
        "staging": {"noncurrentVersionExpiryDays": 90},
        "prod": {"noncurrentVersionExpiryDays": 365},
    }

    # Data lifecycle is a property of the environment's data, not something a promotion carries.
    tiering_after_days: int = Field(default=0, ge=0, description="move to Intelligent-Tiering",
                                    json_schema_extra=PER_ENVIRONMENT)
    raw_archive_after_days: int = Field(default=90, ge=1, description="raw tier to Glacier Deep Archive",
                                        json_schema_extra=PER_ENVIRONMENT)
    noncurrent_version_expiry_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _archive_after_tiering(self) -> StorageConfig:
        if self.raw_archive_after_days <= self.tiering_after_days:
            raise Invalid(f"{self.raw_archive_after_days} must be more than tieringAfterDays "
                          f"({self.tiering_after_days}): raw data is archived after it is tiered (S3 lifecycle "
                          f"order)", at=("rawArchiveAfterDays",))
        return self
