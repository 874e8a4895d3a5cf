"""What every section of the schema shares: the strict camelCase model, environments, common types."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..regions import AWS_REGIONS

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
ACCOUNT_ID_PATTERN = r"^\d{12}$"


class Model(BaseModel):
    """Strict base: unknown keys are errors, YAML keys are camelCase, and values are not coerced
    (``azCount: true`` or ``azCount: "3"`` is not a number, ``endpointsMultiAz: yes`` is a boolean).

    Models are built by validating a stack file's values, never by keyword in Python, so the
    generated (dynamic) aliases are what callers use.
    """

    model_config = ConfigDict(  # type: ignore[pydantic-alias]
        extra="forbid", frozen=True, strict=True, alias_generator=to_camel, validate_by_name=False
    )


class Section(Model):
    """A top-level section of a stack file (``network:``, ``storage:`` ...).

    ``DEFAULTS`` holds, per environment, the camelCase values a stack file does not have to state. They
    are merged deeply under the file's own values (see ``defaults.py``), so they may be nested and may
    hold lists of named items (``[{name: system, ...}]``) that the file changes item by item.
    """

    DEFAULTS: ClassVar[Mapping[Environment, Mapping[str, Any]]] = {}


PER_ENVIRONMENT: dict[str, Any] = {"perEnvironment": True}
"""``json_schema_extra`` of a field meant to differ between environments (account, regions, CIDRs ...):
`mlp promote infra` never carries it from one environment to the next. Keys of a section's per-environment
``DEFAULTS`` are per-environment too, without the marker."""


def refuse_repeats(values: list[str], verb: str = "declared", quote: bool = True) -> None:
    """``ValueError`` naming the values that appear more than once (sorted), e.g. ``'a' declared more than once``."""
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"{', '.join(map(repr, twice) if quote else twice)} {verb} more than once")


def per_environment(field: Any) -> bool:
    """Whether a pydantic ``FieldInfo`` carries the ``PER_ENVIRONMENT`` marker."""
    extra = getattr(field, "json_schema_extra", None)
    return isinstance(extra, Mapping) and extra.get("perEnvironment") is True


class Invalid(ValueError):
    """A validation failure about a field below the model that raises it.

    ``at`` is the camelCase path from that model to the field, so the error points at the field's
    line in the stack file rather than at the whole model.
    """

    def __init__(self, message: str, *, at: tuple[str | int, ...] = ()):
        super().__init__(message)
        self.at = at


def known_region(value: str) -> str:
    if value not in AWS_REGIONS:
        near = difflib.get_close_matches(value, AWS_REGIONS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ValueError(f"unknown AWS region {value!r}{hint}; allowed: {', '.join(sorted(AWS_REGIONS))}")
    return value


def account_id(value: Any) -> str:
    """A 12-digit account id, as text (a stack file quotes it: YAML may read digits as a number)."""
    if not isinstance(value, str) or not re.fullmatch(ACCOUNT_ID_PATTERN, value):
        raise ValueError(f"{value!r} is not a 12-digit AWS account id in quotes, e.g. \"012345678901\"")
    return value


def slug(value: str) -> str:
    if not re.fullmatch(SLUG_PATTERN, value):
        raise ValueError(f"{value!r} is not allowed: 3-20 lowercase letters, digits and '-', starting with a "
                         f"letter and not ending with '-'")
    return value


Region = Annotated[str, AfterValidator(known_region)]
AccountId = Annotated[str, BeforeValidator(account_id)]
Slug = Annotated[str, AfterValidator(slug)]
Email = Annotated[str, Field(pattern=EMAIL_PATTERN)]
