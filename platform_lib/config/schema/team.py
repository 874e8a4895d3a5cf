"""A team stack: one team's isolated slice of one environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Slug
from .stack import StackBase
from .storage import StorageConfig
from .tenancy import TenancyConfig


class TeamConfig(StackBase):
    """One team's isolated slice in one environment."""

    kind: Literal["team"]
    team: Slug
    platform_stack: str | None = Field(default=None, description="defaults to platform-<environment>")
    storage: StorageConfig
    tenancy: TenancyConfig

    @property
    def platform_stack_name(self) -> str:
        return self.platform_stack or f"platform-{self.environment}"

    @model_validator(mode="after")
    def _team_is_not_platform(self) -> TeamConfig:
        if self.team == "platform":
            raise ValueError("team 'platform' is reserved for the shared platform stacks")
        return self
