"""Security settings: the platform's account baseline and a team's data perimeter."""

from __future__ import annotations

from pydantic import Field

from .base import Section

_BASELINE_ON = {"accountPublicAccessBlock": True, "ebsEncryptionByDefault": True, "cloudTrail": True,
                "guardDuty": True, "configRecorder": True}
_BASELINE_OFF = {key: False for key in _BASELINE_ON}


class BaselineConfig(Section):
    """Account-level controls the platform stack owns (turn one off when an organisation-wide service,
    e.g. Control Tower or a delegated administrator, already provides it in this account)."""

    DEFAULTS = {"dev": _BASELINE_OFF, "staging": _BASELINE_OFF, "prod": _BASELINE_ON}

    organization_id: str | None = Field(
        default=None, pattern=r"^o-[a-z0-9]{10,32}$",
        description="VPC endpoints admit this AWS Organization's principals and resources; "
                    "without it, this account's only",
    )
    account_public_access_block: bool = Field(description="S3 Block Public Access for the whole account")
    ebs_encryption_by_default: bool = Field(description="new EBS volumes encrypted in every region")
    cloud_trail: bool = Field(description="a multi-region trail into a KMS-encrypted, object-locked bucket")
    guard_duty: bool = Field(description="a GuardDuty detector in every region")
    config_recorder: bool = Field(description="AWS Config records every region into a delivery bucket")


class PerimeterConfig(Section):
    """A team's data perimeter: its data and models buckets refuse object access that does not come
    through the platform's VPC endpoints or an AWS service, except for the team's break-glass role."""

    DEFAULTS = {"dev": {"enforced": False}, "staging": {"enforced": True}, "prod": {"enforced": True}}

    enforced: bool = Field(description="off in dev, where data scientists work from laptops")
