"""Model package group policies grant only to named AWS accounts, never to everyone."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import InvalidPolicyDocument, is_unknown, principal_values, props_of, statements

ACCOUNT = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$")
CONFIG_KEY = "allowedAccounts"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    document = props_of(args).get("resourcePolicy")
    if is_unknown(document):
        return
    allowed = (args.get_config() or {}).get(CONFIG_KEY)
    try:
        parsed = statements(document)
    except InvalidPolicyDocument as error:
        report_violation(f"model package group policy '{args.name}' is {error}", None)
        return
    for index, statement in enumerate(parsed):
        if not statement.allows:
            continue
        principals = [p for p in principal_values(statement.principal, "AWS") if not is_unknown(p)]
        others = [kind for kind in ("Service", "Federated", "CanonicalUser")
                  if principal_values(statement.principal, kind)]
        bad = [str(p) for p in principals if not (isinstance(p, str) and ACCOUNT.match(p))] + others
        if allowed:
            bad += [p for p in principals if isinstance(p, str) and ACCOUNT.match(p)
                    and re.sub(r"\D", "", p.split(":")[4] if ":" in p else p) not in allowed]
        if bad or not principals and not others:
            report_violation(f"model package group policy '{args.name}': {statement.label(index)} grants to "
                             f"{', '.join(bad) or 'no named principal'}; required: the organisation's accounts "
                             "only (12-digit ids or arn:aws:iam::<account>:root), never '*'", None)


RULE = Rule(
    id="sagemaker-model-package-group-policy-accounts",
    description="Model package group policies grant only to named AWS accounts, never '*'.",
    severity="high",
    control="NIST 800-53 AC-3, AC-6",
    kind="resource",
    validate=validate,
    resource_types=frozenset({"aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"}),
    remediation="List the organisation's other environment accounts in modelRegistry.readerAccounts.",
    config_schema={CONFIG_KEY: {"type": "array", "items": {"type": "string", "pattern": r"^\d{12}$"}}},
)
