"""A feature group's offline store lives in a bucket of the same stack and team."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    BUCKET_TYPES,
    UNKNOWN,
    display_name,
    effective_tags,
    is_known,
    is_log_bucket,
    of_types,
    props_of,
    urn_of,
)

FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"


def _s3_uri(group) -> object:
    offline = props_of(group).get("offlineStoreConfig")
    if offline is UNKNOWN:
        return UNKNOWN
    if not isinstance(offline, dict):
        return None
    storage = offline.get("s3StorageConfig")
    if storage is UNKNOWN:
        return UNKNOWN
    return storage.get("s3Uri") if isinstance(storage, dict) else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each offline store's S3 URI names a bucket of this stack, of the group's team, not a log bucket."""
    buckets = of_types(args.resources, BUCKET_TYPES)
    by_urn = {b.urn: b for b in buckets}
    for group in of_types(args.resources, [FEATURE_GROUP]):
        uri = _s3_uri(group)
        if uri is None or uri is UNKNOWN:
            continue   # no offline store, or not known before the bucket exists
        label = f"feature group '{display_name(group, 'featureGroupName')}'"
        if isinstance(uri, str) and is_known(uri):
            name = uri.removeprefix("s3://").split("/", 1)[0]
            matches = [b for b in buckets if props_of(b).get("bucket") == name]
        else:
            deps = (getattr(group, "property_dependencies", None) or {}).get("offlineStoreConfig") or []
            matches = [by_urn[urn_of(d)] for d in deps if urn_of(d) in by_urn]
            name = display_name(matches[0], "bucket") if matches else "?"
            if not matches:
                continue
        if not matches:
            report_violation(f"{label} writes its offline store to bucket '{name}', which is not a bucket of "
                             "this stack; required: a bucket of the same team, under the team's key", group.urn)
            continue
        bucket = matches[0]
        team, owner = effective_tags(group).get("team"), effective_tags(bucket).get("team")
        if is_log_bucket(bucket):
            report_violation(f"{label} writes its offline store to the log bucket '{name}'; required: a data "
                             "bucket of the same team", group.urn)
        elif team and owner and team != owner:
            report_violation(f"{label} of team '{team}' writes its offline store to bucket '{name}' of team "
                             f"'{owner}'; required: a bucket of the same team", group.urn)


RULE = Rule(
    id="sagemaker-feature-group-offline-store-team-bucket",
    description="Feature groups keep their offline store in a data bucket of the same stack and team.",
    severity="high",
    control="NIST 800-53 AC-4, AC-6",
    kind="stack",
    validate=validate,
    remediation="Point offline_store_config.s3_storage_config.s3_uri at the team's features bucket.",
)
