"""What platform and team stacks have in common: environment, account, regions, owners, logs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .base import PER_ENVIRONMENT, AccountId, Email, Environment, Invalid, Model, Region, Slug
from .defaults import with_defaults
from .logs import LogsConfig


class StackBase(Model):
    """The keys every stack file has. Subclasses add sections as fields typed with a ``Section``."""

    environment: Environment = Field(json_schema_extra=PER_ENVIRONMENT)
    account_id: AccountId = Field(json_schema_extra=PER_ENVIRONMENT)
    primary_region: Region
    serving_regions: list[Region] = Field(
        default_factory=list, description="regions that serve models; empty means the primary only",
        json_schema_extra=PER_ENVIRONMENT,
    )
    cost_center: Slug
    owners: list[Email] = Field(min_length=1, json_schema_extra=PER_ENVIRONMENT)
    logs: LogsConfig

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        return with_defaults(cls, data)

    @model_validator(mode="after")
    def _serving_regions(self) -> StackBase:
        for index, region in enumerate(self.serving_regions):
            if region in self.serving_regions[:index]:
                raise Invalid(f"{region} is listed twice", at=("servingRegions", index))
        if self.serving_regions and self.primary_region not in self.serving_regions:
            raise Invalid(f"must include primaryRegion {self.primary_region} (models are "
                          f"trained and registered there); leave servingRegions out to serve from it alone",
                          at=("servingRegions",))
        return self

    @property
    def serving(self) -> list[str]:
        """The regions that serve models (the primary alone unless servingRegions says more)."""
        return self.serving_regions or [self.primary_region]

    @property
    def regions(self) -> list[str]:
        """Every region of the stack: the primary first, then the other serving regions."""
        return [self.primary_region] + [r for r in self.serving if r != self.primary_region]

    @property
    def protect_stateful(self) -> bool:
        """Prod keeps buckets, keys and registries behind Pulumi's `protect`."""
        return self.environment == "prod"
