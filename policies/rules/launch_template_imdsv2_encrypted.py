"""Launch templates require IMDSv2 and encrypt every EBS volume."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import as_list, display_name, is_true, is_unknown, props_of

TEMPLATE_TYPES = frozenset({"aws:ec2/launchTemplate:LaunchTemplate"})


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """metadataOptions.httpTokens is "required" (unset means IMDSv1 allowed), and every
    blockDeviceMappings[].ebs sets encrypted=true."""
    props = props_of(args)
    label = f"launch template '{display_name(args, 'name')}'"
    metadata = props.get("metadataOptions")
    tokens = metadata.get("httpTokens") if isinstance(metadata, dict) else None
    if not is_unknown(metadata) and not is_unknown(tokens) and tokens != "required":
        report_violation(f"{label} allows IMDSv1 (metadataOptions.httpTokens={tokens or 'unset'}); required: "
                         f"httpTokens=required", None)
    for index, mapping in enumerate(as_list(props.get("blockDeviceMappings"))):
        ebs = mapping.get("ebs") if isinstance(mapping, dict) else None
        if not isinstance(ebs, dict):
            continue
        encrypted = ebs.get("encrypted")
        if not is_unknown(encrypted) and not is_true(encrypted):
            device = mapping.get("deviceName") or f"#{index}"
            report_violation(f"{label} volume {device} is not encrypted; required: ebs.encrypted=true "
                             f"(with kmsKeyId)", None)


RULE = Rule(
    id="launch-template-imdsv2-encrypted",
    description="Launch templates require IMDSv2 (httpTokens=required) and encrypt their EBS volumes.",
    severity="high",
    control="AWS FSBP EC2.170, EC2.3",
    kind="resource",
    validate=validate,
    resource_types=TEMPLATE_TYPES,
    remediation="Set metadata_options http_tokens='required' (hop limit 1 for workloads) and ebs encrypted='true' "
                "with kms_key_id.",
)
