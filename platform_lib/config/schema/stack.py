"""What platform and team stacks have in common: environment, account, regions, owners, logs."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .base import AccountId, Email, Environment, Model, Region, Slug
from .defaults import with_defaults
from .logs import LogsConfig


class StackBase(Model):
    """The keys every stack file has. Subclasses add sections as fields typed with a ``Section``."""

    environment: Environment
    account_id: AccountId
    primary_region: Region
    serving_regions: list[Region] = Field(
        default_factory=list, description="regions that serve models; empty means the primary only"
    )
    cost_center: Slug
    owners: list[Email] = Field(min_length=1)
    logs: LogsConfig

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        return with_defaults(cls, data)

    @model_validator(mode="after")
    def _serving_regions_unique(self) -> StackBase:
        if len(set(self.serving_regions)) != len(self.serving_regions):
            raise ValueError("servingRegions lists a region twice")
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
