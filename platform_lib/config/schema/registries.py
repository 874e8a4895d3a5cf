"""The ``containerRegistry`` section of a platform stack: the shared training and serving images."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import Section, Slug, refuse_repeats


class ContainerRegistryConfig(Section):
    """ECR repositories ``ml-platform/<name>`` in every region of the platform (replicated from the
    primary), with immutable tags, scan on push, KMS, and a lifecycle policy."""

    DEFAULTS = {
        "dev": {"untaggedExpiryDays": 7, "keepReleases": 10},
        "staging": {"untaggedExpiryDays": 7, "keepReleases": 20},
        "prod": {"untaggedExpiryDays": 14, "keepReleases": 50},
    }

    repositories: list[Slug] = Field(default_factory=lambda: ["training", "serving"], min_length=1)
    untagged_expiry_days: int = Field(ge=1, le=365, description="untagged images expire this long after push")
    keep_releases: int = Field(ge=1, le=1000, description="release images (tags v*) kept, newest first")

    @field_validator("repositories")
    @classmethod
    def _unique(cls, repositories: list[str]) -> list[str]:
        refuse_repeats(repositories, "listed")
        return repositories
