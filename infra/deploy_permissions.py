"""What the CI deploy role may do: the IAM actions that deploying each resource type of the blueprint
needs (a fact of each type in the registry, `policies/resource_types.py`), scoped to this account and
environment's resources.

The CI policy is their union over the types the blueprint creates, so adding a type without its
actions fails `tests/infra/test_ci_permissions.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from infra.documents import Statement, allow, grants_for_aws_resources, in_account
from infra.naming import Names
from policies.resource_types import RESOURCE_TYPES

DEPLOY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    t.token: t.deploy_actions for t in RESOURCE_TYPES.values() if t.deploy_actions
}
"""`{type token: actions}`: the registry's deploy actions of every type that has them."""


def blueprint_types() -> list[str]:
    """The resource types the blueprint's programs create: what CI must be able to deploy."""
    return sorted(t.token for t in RESOURCE_TYPES.values() if t.in_blueprint)


# Actions that AWS authorizes on no resource (the service authorization reference lists none): `*`.
UNSCOPED = (
    "ec2:Describe*", "ec2:*EbsEncryptionByDefault", "kms:CreateKey", "kms:ListAliases",
    "logs:DescribeLogGroups", "logs:CreateLogDelivery", "logs:DeleteLogDelivery",
    "route53:AssociateVPCWithHostedZone", "guardduty:CreateDetector",
    "guardduty:ListDetectors", "cloudtrail:DescribeTrails", "config:*",
    "eks:DescribeAddonVersions", "autoscaling:Describe*",
    "ecr:PutReplicationConfiguration", "ecr:DescribeRegistry", "application-autoscaling:Describe*",
    "cloudwatch:DescribeAlarms", "acm:RequestCertificate", "route53:CreateHealthCheck",
    "elasticloadbalancing:Describe*",
)


SERVING_SERVICES = ("acm:*", "route53:*", "apigateway:*")
OPERATIONS_SERVICES = ("sagemaker", "athena", "eks", "ecr", "sns", "cloudwatch", "events", "budgets", "scheduler",
                       "elasticloadbalancing")


def _matches(action: str, patterns: str | tuple[str, ...]) -> bool:
    return any(fnmatchcase(action, p) for p in ((patterns,) if isinstance(patterns, str) else patterns))


def _scopes(names: Names) -> list[tuple[str, str | tuple[str, ...], list[str]]]:
    """(sid, action pattern, resources), first match wins: this account, and this environment's names."""
    account, env = names.account_id, names.environment_glob()
    service_linked = f"arn:aws:iam::{account}:role/aws-service-role/*"
    # Services whose every resource name carries the environment (`<scope>-<env>-*`), plus ECR repositories
    # (`ml-platform/*`, shared by the environment's stacks): one statement, as the actions name the service.
    operations = [f"arn:aws:ecr:*:{account}:repository/*", f"arn:aws:*:*:{account}:{env}"]
    return [
        ("Unscoped", "*", ["*"]),  # UNSCOPED actions; matched before the rest of this list
        ("ServiceLinkedRoles", "iam:*ServiceLinkedRole*", [service_linked]),
        # CI's identity provider, and each cluster's IRSA issuer (oidc.eks.<region>.amazonaws.com/id/<id>)
        ("OidcProvider", "iam:*OpenIDConnectProvider*",
         [names.oidc_provider_arn(), f"arn:aws:iam::{account}:oidc-provider/oidc.eks.*"]),
        ("Roles", "iam:*Role*", [names.environment_role_arns(), service_linked]),  # incl. PassRole, inline policies
        ("Policies", "iam:*", [names.environment_policy_arns()]),
        ("S3Account", "s3:*AccountPublicAccessBlock", ["*"]),  # the account's own: s3:ResourceAccount holds
        ("Buckets", "s3:*", [f"arn:aws:s3:::{env}"]),
        ("KeyAliases", "kms:*Alias", [f"arn:aws:kms:*:{account}:alias/*", f"arn:aws:kms:*:{account}:key/*"]),
        ("Keys", "kms:*", [f"arn:aws:kms:*:{account}:key/*"]),
        ("LogGroups", "logs:*", [f"arn:aws:logs:*:{account}:log-group:*"]),
        ("Network", "ec2:*", [f"arn:aws:ec2:*:{account}:*"]),
        ("Trails", "cloudtrail:*", [f"arn:aws:cloudtrail:*:{account}:trail/*"]),
        ("Detectors", "guardduty:*", [f"arn:aws:guardduty:*:{account}:detector/*"]),
        ("Catalog", "glue:*", [*names.environment_glue_arns(), f"arn:aws:glue:*:{account}:crawler/{env}"]),
        # Managed node groups' Auto Scaling groups (scale-from-zero tags); this account's groups, as the ASG name
        # pattern (eks-<node group>-<uuid>) would not fit the CI boundary's size limit
        ("Asgs", "autoscaling:*", [f"arn:aws:autoscaling:*:{account}:autoScalingGroup:*"]),
        # feature groups, models, endpoints, package groups, tracking servers; workgroups; clusters and their
        # node groups, add-ons, access entries (`<kind>/<cluster>/...`); topics, rules, budgets, registries;
        # batch schedules (`schedule/<group>/<name>`)
        *(("Operations", f"{service}:*", operations) for service in OPERATIONS_SERVICES),
        ("Alarms", "cloudwatch:*", [f"arn:aws:cloudwatch:*:{account}:alarm:*"]),
        ("Autoscaling", "application-autoscaling:*",
         [f"arn:aws:application-autoscaling:*:{account}:scalable-target/*"]),
        # serving routes (issue 12), one statement: API Gateway's ARNs name no account, certificates no environment
        ("Serving", SERVING_SERVICES, [f"arn:aws:acm:*:{account}:certificate/*", "arn:aws:route53:::*",
                                       "arn:aws:apigateway:*::/*"]),
    ]


def deploy_actions(types: Iterable[str]) -> list[str]:
    """The union of the deploy actions of `types`, sorted; a type without known actions is an error."""
    unknown = sorted(t for t in types if t not in DEPLOY_ACTIONS)
    if unknown:
        raise KeyError(f"no deploy actions known for resource type(s) {unknown}: add them to "
                       f"policies/resource_types.py")
    return sorted({action for t in types for action in DEPLOY_ACTIONS[t]})


def deploy_statements(names: Names, types: Iterable[str]) -> list[Statement]:
    """Allow statements granting exactly the deploy actions of `types`, each on its narrowest scope."""
    types = list(types)
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    scopes = _scopes(names)
    for action in deploy_actions(types):
        if any(fnmatchcase(action, pattern) for pattern in UNSCOPED):
            sid, resources = "Unscoped", ["*"]
        else:
            sid, _, resources = next(s for s in scopes[1:] if _matches(action, s[1]))
        grouped.setdefault(sid, ([], resources))[0].append(action)
    order = [s[0] for s in scopes]
    perimeter = in_account(names.account_id)  # every S3 grant is tied to this account
    statements = [allow(actions, resources if len(resources) > 1 else resources[0], sid=sid,
                        **(perimeter if any(a.startswith("s3:") for a in actions) else {}))
                  for sid, (actions, resources) in sorted(grouped.items(), key=lambda item: order.index(item[0]))]
    if "aws:ecr/repository:Repository" in types:   # ECR makes a grant on a repository's key for itself
        statements.append(grants_for_aws_resources(f"arn:aws:kms:*:{names.account_id}:key/*", sid="KeyGrants"))
    return statements


# Never widened: `s3:Get*` would reach objects (IAM's `*` spans `/`, so `arn:aws:s3:::*-prod-*` also names
# every object), and `kms:Create*` includes kms:CreateGrant, a way to decrypt.
EXACT_SERVICES = ("s3", "kms")


# S3 bucket-level actions the ceiling may name by pattern: none of them reads or writes objects.
S3_BUCKET_PATTERNS = ("s3:GetBucket*", "s3:PutBucket*", "s3:DeleteBucket*", "s3:Get*Configuration",
                      "s3:Put*Configuration")


def verb_patterns(actions: Iterable[str], nouns: bool = True) -> list[str]:
    """`ec2:CreateVpc`, `ec2:CreateSubnet` -> `ec2:Create*` (KMS actions stay exact, S3 ones exact or a
    bucket-level pattern): a ceiling that new types of a known verb and scope fit under, so adding one
    rarely needs a boundary change. Without `nouns` (actions on every resource), no NOUN_SERVICES pattern."""
    return sorted({_ceiling_pattern(action, service, name, nouns)
                   for action, (service, name) in ((a, a.split(":", 1)) for a in actions)})


# Services of one resource type in the ceiling: their noun, shorter than their verbs. Elastic Load Balancing
# (the serving NLBs, target groups and listeners, `Operations`): its tags by their noun.
NOUN_SERVICES = {"scheduler": "scheduler:*Schedule", "elasticloadbalancing": "elasticloadbalancing:*Tags"}


def _ceiling_pattern(action: str, service: str, name: str, nouns: bool = True) -> str:
    if nouns and service in NOUN_SERVICES and fnmatchcase(action, NOUN_SERVICES[service]):
        return NOUN_SERVICES[service]
    if service == "s3":
        return next((p for p in S3_BUCKET_PATTERNS if fnmatchcase(action, p)), action)
    return action if service in EXACT_SERVICES else f"{service}:{_verb(name)}*"


def _verb(name: str) -> str:
    match = re.match(r"[A-Z][a-z]+", name)
    return match.group(0) if match else name


def ceiling_statements(names: Names, types: Iterable[str]) -> list[Statement]:
    """The deploy statements with their actions widened to verbs on the same resources (bucket, role,
    network ... ARNs of this account and environment), except where a verb would reach data. Without
    statement ids: a boundary is one managed policy of at most 6,144 characters. The scopes bounded by
    nouns (no data) share one statement: each noun names one service, so it reaches only its own ARNs; a
    statement another one covers is left out."""
    ceiling: list[Statement] = []
    nouns: Statement = {"Effect": "Allow", "Action": [], "Resource": []}
    for statement in deploy_statements(names, types):
        actions = _ceiling_actions(statement["Sid"], statement["Action"])
        if statement["Sid"] in NOUN_CEILING and "Condition" not in statement:
            resources = statement["Resource"]
            nouns["Action"] += [a for a in actions if a not in nouns["Action"]]
            nouns["Resource"] += [r for r in ([resources] if isinstance(resources, str) else resources)
                                  if r not in nouns["Resource"]]
            continue
        ceiling.append({key: value for key, value in {**statement, "Action": actions}.items() if key != "Sid"})
    widened = ceiling + ([nouns] if nouns["Action"] else [])
    kept = [s for i, s in enumerate(widened) if not any(_covers(other, s) for j, other in enumerate(widened) if j != i)]
    return _absorbed(_unrepeated(kept))


def _unrepeated(statements: list[Statement]) -> list[Statement]:
    """Leave out of each statement the action patterns an unconditional statement on every resource already
    allows (e.g. `ecr:Describe*` next to the unscoped `ecr:Describe*`): the same access, fewer characters."""
    everywhere = [p for s in statements if s["Resource"] in ("*", ["*"]) and "Condition" not in s
                  for p in _listed(s["Action"])]
    result: list[Statement] = []
    for statement in statements:
        if statement["Resource"] in ("*", ["*"]) or statement["Effect"] != "Allow":
            result.append(statement)
            continue
        actions = [a for a in _listed(statement["Action"]) if not any(fnmatchcase(a, p) for p in everywhere)]
        if actions:
            result.append({**statement, "Action": actions})
    return result


def _absorbed(statements: list[Statement]) -> list[Statement]:
    """Statements whose verbs another statement already has (same condition, no data service) join its
    resources: e.g. the policies' `iam:Create*`, `iam:Delete*` ... go to the roles' statement."""
    result: list[Statement] = []
    for statement in statements:
        actions = _listed(statement["Action"])
        host = next((s for s in result if s.get("Condition") == statement.get("Condition")
                     and not any(a.split(":")[0] in EXACT_SERVICES for a in actions + _listed(s["Action"]))
                     and all(a in _listed(s["Action"]) for a in actions)), None)
        if host is None:
            result.append(statement)
        else:
            host["Resource"] = _listed(host["Resource"]) + [r for r in _listed(statement["Resource"])
                                                           if r not in _listed(host["Resource"])]
    return result


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def _covers(wider: Statement, statement: Statement) -> bool:
    """Whether `wider` allows all that `statement` allows (same condition, its resources and actions among
    wider's patterns), so the ceiling can leave `statement` out."""
    def listed(value) -> list[str]:
        return value if isinstance(value, list) else [value]

    def among(items, patterns) -> bool:
        return all(any(fnmatchcase(item, p) for p in listed(patterns)) for item in listed(items))

    return (wider.get("Condition") == statement.get("Condition") and wider != statement
            and among(statement["Resource"], wider["Resource"]) and among(statement["Action"], wider["Action"]))


# Scopes of one resource type that holds no data: a noun, not a verb, bounds them (shorter; the CI
# boundary is a managed policy of at most 6,144 characters).
NOUN_CEILING = {
    "OidcProvider": ("iam:*OpenIDConnectProvider*",),     # one provider ARN; every action names the noun
    "Trails": ("cloudtrail:*Trail*", "cloudtrail:*Logging", "cloudtrail:*Selectors", "cloudtrail:*Tags"),
    "Alarms": ("cloudwatch:*Alarm*", "cloudwatch:*Tag*", "cloudwatch:Untag*"),
    "Autoscaling": ("application-autoscaling:*Scal*", "application-autoscaling:*Tag*",
                    "application-autoscaling:Untag*"),
    "Serving": ("acm:*Certificate*", "route53:*ResourceRecordSets", "route53:*HealthCheck", "route53:Get*",
                "route53:*TagsForResource",
                *(f"apigateway:{verb}" for verb in ("DELETE", "GET", "PATCH", "POST", "PUT"))),
}


def _ceiling_actions(sid: str, actions: list[str]) -> list[str]:
    if sid not in NOUN_CEILING:
        return verb_patterns(actions, nouns=sid != "Unscoped")
    outside = [a for a in actions if not any(fnmatchcase(a, p) for p in NOUN_CEILING[sid])]
    if outside:
        raise KeyError(f"deploy action(s) {outside} fit no pattern of {sid} in NOUN_CEILING")
    return list(NOUN_CEILING[sid])
