"""Typed stack configuration: one schema for platform stacks and team stacks.

Keys are camelCase in YAML (Pulumi's convention) and snake_case in Python. One module per section of
a stack file; each section declares its per-environment defaults next to its model (``DEFAULTS``),
and they are merged deeply under a stack's own values before validation, so a stack file only states
what differs from its environment's defaults.

Adding a section: a module with a ``Section`` subclass (and its ``DEFAULTS``), and a field of that
type on ``PlatformConfig`` or ``TeamConfig``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .base import (
    ENVIRONMENTS,
    AccountId,
    Email,
    Environment,
    Invalid,
    Model,
    Region,
    Section,
    Slug,
)
from .budget import BudgetConfig
from .ci import CiConfig
from .compute import ComputeConfig, NodePool
from .defaults import deep_merge, environment_defaults, sections, with_defaults
from .features import FeatureGroup, FeaturesConfig
from .logs import LOG_RETENTION_DAYS, LogsConfig, RetentionDays
from .models import Gate, ModelDeclaration, ModelRegistryConfig
from .network import NetworkConfig, VpcCidr
from .observability import ObservabilityConfig
from .platform import PlatformConfig
from .registries import ContainerRegistryConfig
from .security import BaselineConfig, PerimeterConfig
from .serving import ServedModel, ServingConfig
from .stack import StackBase
from .storage import StorageConfig
from .team import TeamConfig
from .tenancy import TenancyConfig
from .tracking import TrackingConfig

StackConfig = Annotated[PlatformConfig | TeamConfig, Field(discriminator="kind")]

# What each environment gets unless its stack file says otherwise, by section (camelCase keys).
ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    environment: {**environment_defaults(PlatformConfig, environment),
                  **environment_defaults(TeamConfig, environment)}
    for environment in ENVIRONMENTS
}

__all__ = [
    "ENVIRONMENTS", "ENVIRONMENT_DEFAULTS", "LOG_RETENTION_DAYS", "AccountId", "BaselineConfig", "BudgetConfig",
    "CiConfig", "ComputeConfig", "ContainerRegistryConfig", "Email", "Environment", "FeatureGroup", "FeaturesConfig",
    "Gate", "Invalid", "LogsConfig", "Model", "ModelDeclaration", "ModelRegistryConfig", "NetworkConfig", "NodePool",
    "ObservabilityConfig", "PerimeterConfig", "PlatformConfig", "Region", "RetentionDays", "Section", "ServedModel",
    "ServingConfig", "Slug", "StackBase", "StackConfig", "StorageConfig", "TeamConfig", "TenancyConfig",
    "TrackingConfig",
    "VpcCidr", "deep_merge", "environment_defaults", "sections", "with_defaults",
]
