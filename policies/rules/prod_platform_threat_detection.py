"""Prod platform stacks record the account's API activity (CloudTrail) and watch it for threats (GuardDuty)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    PLATFORM_TEAM,
    PROD,
    UNKNOWN,
    of_types,
    props_of,
    provider_default_tags,
    provider_region,
)

TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
REQUIRED_TRAIL = "a cloudtrail.Trail with is_multi_region_trail=True and enable_log_file_validation=True"
REQUIRED_DETECTOR = "a guardduty.Detector (enable=True) in every region the platform deploys to"


def _platform_prod_providers(resources: list[Any]) -> list[Any]:
    """The aws providers of the stack whose default tags say team=platform, env=prod (one per URN)."""
    found: dict[str, Any] = {}
    for resource in resources:
        provider = getattr(resource, "provider", None)
        if provider is None or provider.urn in found:
            continue
        tags, _ = provider_default_tags(provider)
        if tags.get("team") == PLATFORM_TEAM and tags.get("env") == PROD:
            found[provider.urn] = provider
    return list(found.values())


def _flag(props: dict[str, Any], key: str, default: bool) -> bool | Any:
    value = props.get(key, default)
    return UNKNOWN if value is UNKNOWN else value is True or str(value).lower() == "true"


def _trail_ok(trail: Any) -> bool:
    props = props_of(trail)
    flags = [_flag(props, "isMultiRegionTrail", False), _flag(props, "enableLogFileValidation", False),
             _flag(props, "enableLogging", True)]
    return all(f is True or f is UNKNOWN for f in flags)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A prod platform stack has a multi-region trail with log validation, and a detector per region."""
    resources = list(args.resources)
    providers = _platform_prod_providers(resources)
    if not providers:
        return
    trails = of_types(resources, (TRAIL,))
    if not any(_trail_ok(t) for t in trails):
        offender = trails[0] if trails else providers[0]
        problem = "no compliant CloudTrail trail" if trails else "no CloudTrail trail"
        report_violation(f"prod platform stack has {problem}; required: {REQUIRED_TRAIL}", offender.urn)
    detectors = [d for d in of_types(resources, (DETECTOR,)) if _flag(props_of(d), "enable", True) is not False]
    covered = {provider_region(getattr(d, "provider", None)) for d in detectors}
    for provider in providers:
        region = provider_region(provider)
        if region not in covered and None not in covered:
            report_violation(f"prod platform stack has no GuardDuty detector in {region or provider.name} "
                             f"(provider '{provider.name}'); required: {REQUIRED_DETECTOR}", provider.urn)


RULE = Rule(
    id="prod-platform-threat-detection",
    description="Prod platform stacks have a multi-region CloudTrail trail and GuardDuty in each region.",
    severity="high",
    control="AWS FSBP CloudTrail.1, CloudTrail.4, GuardDuty.1",
    kind="stack",
    validate=validate,
    remediation=("Enable the platform stack's baseline in prod: a multi-region cloudtrail.Trail with log file "
                 "validation, and a guardduty.Detector through every regional provider."),
)
