"""API Gateway front doors: custom domains negotiate TLS 1.2 or later, and stages write access logs."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import display_name, is_unknown, props_of

DOMAIN = "aws:apigateway/domainName:DomainName"
STAGE = "aws:apigateway/stage:Stage"
TLS_POLICIES = ("TLS_1_2", "SecurityPolicy_TLS13_")   # TLS_1_0 is the API's default


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = props_of(args)
    if args.resource_type == DOMAIN:
        policy = props.get("securityPolicy")
        if not is_unknown(policy) and not str(policy or "").startswith(TLS_POLICIES):
            report_violation(f"API Gateway domain '{display_name(args, 'domainName')}' negotiates "
                             f"{policy or 'TLS_1_0 (the default)'}; required: securityPolicy TLS_1_2 or a TLS 1.3 "
                             f"policy", None)
        return
    logs = props.get("accessLogSettings")
    if not is_unknown(logs) and not (isinstance(logs, dict) and logs.get("destinationArn") and logs.get("format")):
        report_violation(f"API Gateway stage '{display_name(args, 'stageName')}' writes no access logs; required: "
                         f"accessLogSettings with a destinationArn (an encrypted log group) and a format", None)


RULE = Rule(
    id="apigateway-front-door-tls-and-logs",
    description="API Gateway custom domains require TLS 1.2+, and stages write access logs.",
    severity="high",
    control="NIST 800-53 SC-8(1), AU-12",
    kind="resource",
    validate=validate,
    resource_types=frozenset({DOMAIN, STAGE}),
    remediation="Use the ModelRoute component (TLS_1_2 domain, access logs under the platform's logs key).",
)
