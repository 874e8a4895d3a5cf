"""An MLflow tracking server keeps its artifacts in a data bucket of its own stack, so the bucket rules
(KMS, versioning, TLS only, public access blocked) judge the artifact store."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import (
    BUCKET_TYPES,
    display_name,
    is_known,
    is_log_bucket,
    is_unknown,
    of_types,
    props_of,
    urn_of,
)

SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    buckets = of_types(args.resources, BUCKET_TYPES)
    by_urn = {b.urn: b for b in buckets}
    for server in of_types(args.resources, [SERVER]):
        uri = props_of(server).get("artifactStoreUri")
        label = f"MLflow tracking server '{display_name(server, 'trackingServerName')}'"
        if isinstance(uri, str) and is_known(uri):
            name = uri.split("://", 1)[-1].split("/", 1)[0]
            matches = [b for b in buckets if props_of(b).get("bucket") == name]
        elif is_unknown(uri) or uri is None:
            deps = (getattr(server, "property_dependencies", None) or {}).get("artifactStoreUri") or []
            matches = [by_urn[urn_of(d)] for d in deps if urn_of(d) in by_urn]
            name = display_name(matches[0], "bucket") if matches else "?"
            if not matches:
                continue   # not known before the bucket exists
        else:
            continue
        if not matches:
            report_violation(f"{label} stores artifacts in bucket '{name}', which is not a bucket of this stack; "
                             "required: a bucket of the stack, so the bucket rules apply to it", server.urn)
        elif is_log_bucket(matches[0]):
            report_violation(f"{label} stores artifacts in the log bucket '{name}' (SSE-S3, exempt from the KMS "
                             "rule); required: a KMS-encrypted data bucket of the stack", server.urn)


RULE = Rule(
    id="sagemaker-mlflow-artifact-store-guarded",
    description="MLflow tracking servers store artifacts in a guarded data bucket of their stack.",
    severity="high",
    control="NIST 800-53 SC-28, AC-4",
    kind="stack",
    validate=validate,
    remediation="Point artifact_store_uri at a SecureBucket of the platform stack (infra/components/tracking.py).",
)
