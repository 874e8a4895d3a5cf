"""The ``tracking`` section of a platform stack: the environment's managed MLflow tracking server."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Section

WINDOW = r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):[0-2][0-9]:[0-5][0-9]$"
TrackingSize = Literal["Small", "Medium", "Large"]


class TrackingConfig(Section):
    """A SageMaker managed MLflow tracking server per platform environment."""

    DEFAULTS = {
        "dev": {"size": "Small"},
        "staging": {"size": "Small"},
        "prod": {"size": "Medium"},
    }

    size: TrackingSize = Field(description="SageMaker's tracking server sizes (about 25/100/200 users)")
    mlflow_version: str = Field(default="2.16", pattern=r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")
    maintenance_window: str = Field(default="Sun:03:00", pattern=WINDOW,
                                    description="weekly maintenance start (UTC), e.g. Sun:03:00")
