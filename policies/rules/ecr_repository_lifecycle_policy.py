"""ECR repositories have a lifecycle policy that expires untagged images."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import UNKNOWN, as_list, display_name, index_links, is_unknown, of_types, props_of

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"


def _expires_untagged(policy: Any) -> Any:
    """True, False, or UNKNOWN when the document is not known yet."""
    text = props_of(policy).get("policy")
    if is_unknown(text):
        return UNKNOWN
    try:
        document = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return False
    rules = as_list(document.get("rules")) if isinstance(document, dict) else []
    return any(isinstance(r, dict) and (r.get("selection") or {}).get("tagStatus") in ("untagged", "any")
               and (r.get("action") or {}).get("type") == "expire" for r in rules)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    repositories = of_types(args.resources, [REPOSITORY])
    links = index_links(of_types(args.resources, [LIFECYCLE]), "repository", repositories, match_props=("name",))
    for repository in repositories:
        verdicts = [_expires_untagged(policy) for policy in links[repository.urn]]
        if any(v is True or v is UNKNOWN for v in verdicts):
            continue
        what = "a lifecycle policy that never expires untagged images" if verdicts else "no lifecycle policy"
        report_violation(f"ECR repository '{display_name(repository, 'name')}' has {what}; required: an "
                         "aws.ecr.LifecyclePolicy expiring untagged images (and keeping a bounded number of "
                         "releases)", repository.urn)


RULE = Rule(
    id="ecr-repository-lifecycle-policy",
    description="ECR repositories have a lifecycle policy that expires untagged images.",
    severity="low",
    control="AWS FSBP ECR.3",
    kind="stack",
    validate=validate,
    remediation="Add an aws.ecr.LifecyclePolicy with a rule expiring tagStatus 'untagged' images.",
)
