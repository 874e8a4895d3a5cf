"""ECR repositories scan images on push (or the registry scans them with enhanced scanning)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, as_list, display_name, is_true, of_types, props_of, provider_region

REPOSITORY = "aws:ecr/repository:Repository"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
ENHANCED_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def _enhanced_regions(resources: list[Any]) -> set[str | None]:
    """Regions whose registry has enhanced scanning on push or continuous, for some repositories."""
    regions = set()
    for config in of_types(resources, [REGISTRY_SCANNING]):
        props = props_of(config)
        rules = [r for r in as_list(props.get("rules")) if isinstance(r, dict)]
        if props.get("scanType") == "ENHANCED" and any(r.get("scanFrequency") in ENHANCED_FREQUENCIES
                                                        for r in rules):
            regions.add(provider_region(getattr(config, "provider", None)))
    return regions


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    enhanced = _enhanced_regions(args.resources)
    for repository in of_types(args.resources, [REPOSITORY]):
        scanning = props_of(repository).get("imageScanningConfiguration")
        if scanning is UNKNOWN or (isinstance(scanning, dict) and (scanning.get("scanOnPush") is UNKNOWN
                                                                   or is_true(scanning.get("scanOnPush")))):
            continue
        if provider_region(getattr(repository, "provider", None)) in enhanced:
            continue
        report_violation(f"ECR repository '{display_name(repository, 'name')}' does not scan images on push; "
                         "required: imageScanningConfiguration.scanOnPush true, or registry-level ENHANCED "
                         "scanning (SCAN_ON_PUSH or CONTINUOUS_SCAN) in its region", repository.urn)


RULE = Rule(
    id="ecr-repository-scan-on-push",
    description="ECR repositories scan images on push, or the registry uses enhanced scanning.",
    severity="high",
    control="AWS FSBP ECR.1",
    kind="stack",
    validate=validate,
    remediation="Set image_scanning_configuration={'scan_on_push': True} on the repository.",
)
