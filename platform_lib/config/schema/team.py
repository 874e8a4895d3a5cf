"""A team stack: one team's isolated slice of one environment."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import ENVIRONMENTS, PER_ENVIRONMENT, Invalid, Slug
from .budget import BudgetConfig
from .features import FeaturesConfig
from .models import ModelRegistryConfig
from .observability import ObservabilityConfig
from .security import PerimeterConfig
from .serving import ServingConfig
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
        default=None, description="defaults to platform-<environment>", json_schema_extra=PER_ENVIRONMENT
    )
    storage: StorageConfig
    perimeter: PerimeterConfig
    tenancy: TenancyConfig
    features: FeaturesConfig = FeaturesConfig.model_validate({})
    model_registry: ModelRegistryConfig = ModelRegistryConfig.model_validate({})
    observability: ObservabilityConfig
    budget: BudgetConfig
    # `serving:` in YAML; `config.serving` is the list of serving regions (StackBase).
    served: ServingConfig = Field(default=ServingConfig.model_validate({}), alias="serving")
    model_versions: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")],
                         Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, json_schema_extra=PER_ENVIRONMENT,
        description="model -> package version this environment serves; written by `mlp promote model`, "
                    "`mlp rollback` and `mlp deploy` (stack-served models)")

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

    @model_validator(mode="after")
    def _registry_fits_the_stack(self) -> TeamConfig:
        for index, account in enumerate(self.model_registry.reader_accounts):
            if account == self.account_id:
                raise Invalid(f"{account} is this stack's own account (accountId); readerAccounts lists the "
                              f"organisation's other environment accounts",
                              at=("modelRegistry", "readerAccounts", index))
        for index, model in enumerate(self.model_registry.models):
            group = f"{self.team}-{self.environment}-{model.name}"
            if len(group) > 63:
                raise Invalid(f"model package group {group!r} would be longer than SageMaker's 63 characters; "
                              f"shorten the model name", at=("modelRegistry", "models", index, "name"))
        return self

    @model_validator(mode="after")
    def _retraining_reads_declared_features(self) -> TeamConfig:
        """A retraining pipeline's feature group is one of the team's, with an offline store (training sets)."""
        groups = {group.name: group for group in self.features.groups}
        for index, model in enumerate(self.model_registry.models):
            wanted = model.retraining.feature_group if model.retraining else None
            if wanted is None:
                continue
            at = ("modelRegistry", "models", index, "retraining", "featureGroup")
            if wanted not in groups:
                raise Invalid(f"{wanted!r} is not a feature group of this stack (ml-platform:features.groups: "
                              f"{', '.join(groups) or 'none'})", at=at)
            if not groups[wanted].offline_store.enabled:
                raise Invalid(f"feature group {wanted!r} has no offline store; training sets are built from it",
                              at=at)
        return self

    @model_validator(mode="after")
    def _serving_fits_the_environment(self) -> TeamConfig:
        """Each model's regions are serving regions (all of them unless it says); prod serves from at
        least 2 instances and, on SageMaker, rolls out gradually, captures data and watches its drift."""
        resolved = []
        for index, model in enumerate(self.served.models):
            at = ("serving", "models", index)
            for position, region in enumerate(model.regions or []):
                if region not in self.serving:
                    raise Invalid(f"{region} is not a serving region of this team "
                                  f"({', '.join(self.serving)}); add it to servingRegions or "
                                  f"remove it here", at=(*at, "regions", position))
            if self.environment == "prod":
                if (model.min_capacity or 0) < 2:
                    raise Invalid(f"prod serves from at least 2 instances across AZs, not {model.min_capacity}",
                                  at=(*at, "minCapacity"))
                on_sagemaker = model.target == "sagemaker"   # Kubernetes: rolling update, maxUnavailable 0
                if on_sagemaker and model.rollout is not None and model.rollout.strategy == "all-at-once":
                    raise Invalid("prod rolls out canary or linear (rolled back on alarms), not all-at-once",
                                  at=(*at, "rollout", "strategy"))
                if on_sagemaker and not model.data_capture_percent:
                    raise Invalid("prod captures data (drift monitoring reads it): 1-100, not 0",
                                  at=(*at, "dataCapturePercent"))
                if model.target == "sagemaker" and not model.drift_features:
                    raise Invalid("prod monitors drift on SageMaker: name the input columns its alarm watches "
                                  "(driftFeatures: [amount, ...])", at=(*at, "driftFeatures"))
            if model.batch_schedule and model.regions and self.primary_region not in model.regions:
                raise Invalid(f"batch scoring runs in the primary region ({self.primary_region}), next to the "
                              f"curated bucket: serve the model there too", at=(*at, "batchSchedule"))
            resolved.append(model if model.regions else
                            model.model_copy(update={"regions": list(self.serving)}))
        object.__setattr__(self.served, "models", resolved)
        return self

