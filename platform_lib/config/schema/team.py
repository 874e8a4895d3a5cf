"""A team stack: one team's isolated slice of one environment."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import ENVIRONMENTS, Invalid, Slug
from .features import FeaturesConfig
from .security import PerimeterConfig
from .stack import StackBase
from .storage import StorageConfig
from .tenancy import TenancyConfig

# Bucket names may not start with these (S3 bucket naming rules).
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
# A Pulumi stack name (the <stack> of stacks/Pulumi.<stack>.yaml).
STACK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


def stack_name(value: str) -> str:
    if not re.fullmatch(STACK_NAME_PATTERN, value):
        raise ValueError(f"{value!r} is not a stack name (the <stack> of Pulumi.<stack>.yaml): letters, digits, "
                         f"'_', '.' and '-', at most 100")
    return value


class TeamConfig(StackBase):
    """One team's isolated slice in one environment."""

    kind: Literal["team"]
    team: Slug
    platform_stack: Annotated[str, AfterValidator(stack_name)] | None = Field(
        default=None, description="defaults to platform-<environment>"
    )
    storage: StorageConfig
    perimeter: PerimeterConfig
    tenancy: TenancyConfig
    features: FeaturesConfig = FeaturesConfig.model_validate({})

    @property
    def platform_stack_name(self) -> str:
        return self.platform_stack or f"platform-{self.environment}"

    @model_validator(mode="after")
    def _team_name_is_unambiguous(self) -> TeamConfig:
        if self.team == "platform":
            raise Invalid("team 'platform' is reserved for the shared platform stacks", at=("team",))
        clash = [word for word in self.team.split("-") if word in ENVIRONMENTS]
        if clash:
            raise Invalid(f"{self.team!r} contains the environment name {clash[0]!r}: names like "
                          f"<team>-<env>-<purpose> and the per-environment patterns (*-{clash[0]}-*) would "
                          f"mix it up with another environment's resources", at=("team",))
        prefix = next((p for p in S3_RESERVED_PREFIXES if self.team.startswith(p)), None)
        if prefix:
            raise Invalid(f"{self.team!r} starts with {prefix!r}, which S3 refuses at the start of a bucket "
                          f"name (the team's buckets start with its name)", at=("team",))
        return self
