"""The CI deploy role of a platform stack."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Section


class CiConfig(Section):
    """The CI deploy role that GitHub Actions assumes through OIDC (no static keys)."""

    github_org: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")]
    github_repo: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$",
        description="reuse the account's existing GitHub OIDC provider instead of creating one",
    )
