"""Every IAM, trust, key, bucket and endpoint policy document of every example stack, through parliament
(the IAM policy linter; its community auditors on identity policies): no finding beyond the allow-list
below, whose every entry says why it is not a defect."""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.components.cluster_iam import NODE_UNSCOPED_ACTIONS

STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                for p in (Path(__file__).resolve().parents[2] / "stacks").glob("Pulumi.*.yaml"))

IDENTITY = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
            "aws:iam/groupPolicy:GroupPolicy")
DOCUMENTS = {  # type -> (input, kind)
    **{t: ("policy", "identity") for t in IDENTITY},
    "aws:iam/role:Role": ("assumeRolePolicy", "trust"),
    "aws:kms/key:Key": ("policy", "key"),
    "aws:kms/keyPolicy:KeyPolicy": ("policy", "key"),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy", "bucket"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("policy", "endpoint"),
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": ("policy", "endpoint"),
}


@dataclass(frozen=True)
class Allowed:
    """Findings of ``issue`` on documents of ``kinds`` that are not defects, and why."""

    issue: str
    kinds: frozenset[str]
    why: str
    detail: str | None = None              # regex the finding's detail must match
    actions: frozenset[str] | None = None  # the finding's actions must all be among these (lower case)
    resource: str | None = None            # regex the resource's logical name must match

    def covers(self, finding: Finding) -> bool:
        return (finding.issue == self.issue and finding.kind in self.kinds
                and (self.detail is None or re.search(self.detail, finding.detail) is not None)
                and (self.actions is None or (bool(finding.actions) and finding.actions <= self.actions))
                and (self.resource is None or re.search(self.resource, finding.resource) is not None))


def _parliament() -> Any:
    """parliament 1.6.4 imports pkg_resources, which setuptools >= 81 no longer ships; give it the one
    function it calls (resource_filename) from importlib.resources when the real module is missing."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    import parliament
    if not hasattr(parliament, "_exact_actions"):
        _index_exact_actions(parliament)
    return parliament


def _index_exact_actions(parliament: Any) -> None:
    """Make parliament's ``expand_action`` answer a name without wildcards from an index (same result).

    It scans every privilege of the service with fnmatch for each call, and its auditors call it once per
    allowed action: an endpoint policy's documented ``Action: "*"`` took minutes. Names with ``*``/``?``
    still go through the original.
    """
    original = parliament.expand_action
    index = {(service["prefix"], privilege["privilege"].lower()): [{"service": service["prefix"],
                                                                     "action": privilege["privilege"]}]
             for service in parliament.iam_definition for privilege in service["privileges"]}

    def expand_action(action: str, raise_exceptions: bool = True) -> list[dict[str, str]]:
        prefix, _, name = action.partition(":")
        if "*" in action or "?" in action or (prefix.lower(), name.lower()) not in index:
            return original(action, raise_exceptions)
        return [dict(item) for item in index[(prefix.lower(), name.lower())]]

    for module in [m for name, m in sys.modules.items() if name == "parliament" or name.startswith("parliament.")]:
        if getattr(module, "expand_action", None) is original:
            module.expand_action = expand_action  # type: ignore[attr-defined]
    parliament._exact_actions = True


def expanded(patterns: list[str]) -> list[str]:
    """Every action of IAM's reference (parliament's copy) that one of the patterns names."""
    return [f"{e['service']}:{e['action']}" for p in patterns for e in _parliament().expand_action(p)]


SAGEMAKER_VPC_ENIS = frozenset({"ec2:createnetworkinterface", "ec2:createnetworkinterfacepermission",
                                "ec2:deletenetworkinterface", "ec2:deletenetworkinterfacepermission"})

ALLOWED = [
    Allowed("MALFORMED", frozenset({"trust"}), detail="neither Resource nor NotResource",
            why="a trust policy has no Resource element: the role it is attached to is the resource"),
    Allowed("UNKNOWN_FEDERATION_SOURCE", frozenset({"trust"}),
            detail=r"^arn:aws:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$",
            why="parliament knows a fixed list of federation sources; GitHub Actions' OIDC provider is AWS's "
                "documented way for CI to assume a role without long-lived keys"),
    Allowed("UNKNOWN_FEDERATION_SOURCE", frozenset({"trust"}),
            detail=r"^arn:aws:iam::\d{12}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[0-9A-F]+$",
            why="IAM roles for service accounts: an EKS cluster's own OIDC issuer, AWS's documented way for a pod "
                "to assume a role (each trust names one service account)"),
    Allowed("RESOURCE_STAR", frozenset({"identity"}), resource="-workload-boundary$",
            actions=frozenset(a.lower() for a in expanded(NODE_UNSCOPED_ACTIONS)),
            why="the boundary is a ceiling: the EKS node, CNI and CSI roles' AWS managed policies act on "
                "instances, volumes and interfaces they create, which have no ARN before creation"),
    Allowed("PERMISSIONS_MANAGEMENT_ACTIONS", frozenset({"identity"}), resource="-workload-boundary$",
            why="the ceiling admits the ENI permissions of SageMaker's documented VPC access and the grant "
                "revocation of EKS secrets encryption; workload roles' own policies grant them narrowly"),
    Allowed("RESOURCE_STAR", frozenset({"endpoint"}),
            why="an endpoint policy filters what passes the endpoint; Resource '*' narrowed by account or "
                "organisation conditions is AWS's documented data-perimeter form for it"),
    Allowed("RESOURCE_STAR", frozenset({"key"}),
            why="in a key policy, Resource '*' means the key the policy is attached to (AWS requires it)"),
    Allowed("MISMATCHED_TYPE", frozenset({"key"}), detail="ArnLike requires a value of type Arn but given String",
            why="parliament types kms:EncryptionContext:* as String; AWS's documented key policy for CloudWatch "
                "Logs compares kms:EncryptionContext:aws:logs:arn with ArnLike"),
    Allowed("UNKNOWN_CONDITION_FOR_ACTION", frozenset({"key"}),
            detail="^Unknown condition kms:EncryptionContext:aws:logs:arn for action kms:Describe",
            why="AWS's documented CloudWatch Logs key policy grants kms:Describe* in the statement that "
                "conditions on the log group's encryption context"),
    Allowed("MISMATCHED_TYPE", frozenset({"bucket"}),
            detail=r"^Type mismatch: s3:TlsVersion requires a value of type Numeric but given \['1\.2'\]$",
            why="IAM accepts numeric condition values written as JSON strings (AWS's own examples write "
                "NumericLessThanEquals s3:max-keys \"10\")"),
    Allowed("UNKNOWN_CONDITION_FOR_ACTION", frozenset({"bucket"}),
            detail="^Unknown condition s3:TlsVersion for action s3:",
            why="the outdated-TLS deny covers s3:*; for the few actions whose reference lists no s3:TlsVersion "
                "the deny does not apply, and the aws:SecureTransport deny still covers them"),
    Allowed("UNKNOWN_CONDITION_FOR_ACTION", frozenset({"identity", "trust", "key", "bucket", "endpoint"}),
            detail="^Unknown condition aws:(ViaAWSService|SourceOrgID|SourceOrgPaths|VpcSourceIp) for action ",
            why="global condition keys of AWS's reference (valid with every action) that parliament 1.6.4's "
                "list of global keys lacks"),
    Allowed("CREDENTIALS_EXPOSURE", frozenset({"identity"}), actions=frozenset({"ecr:getauthorizationtoken"}),
            why="pulling a training or serving image from ECR needs a registry token (account-wide by API "
                "design); the pull actions themselves are scoped to the team's repositories"),
    Allowed("RESOURCE_STAR", frozenset({"identity"}), actions=SAGEMAKER_VPC_ENIS,
            why="SageMaker's documented permissions for jobs in a VPC: the network interfaces are created in "
                "the subnets the job names at creation, which the VPC deny statements constrain"),
    Allowed("PERMISSIONS_MANAGEMENT_ACTIONS", frozenset({"identity"}),
            actions=SAGEMAKER_VPC_ENIS | {"kms:creategrant", "iam:passrole"},
            why="SageMaker's documented VPC permissions (ENI permissions), grants on the team's keys for "
                "encrypted job volumes, and iam:PassRole limited to SageMaker by iam:PassedToService"),
    Allowed("MISMATCHED_TYPE_BUT_USABLE", frozenset({"identity"}),
            detail="StringNotEquals requires a value of type String but given Arn", resource="-ci-boundary$",
            why="iam:PermissionsBoundary is compared with a policy ARN using String operators, as in AWS's "
                "permissions-boundary examples"),
    Allowed("PERMISSIONS_MANAGEMENT_ACTIONS", frozenset({"identity"}), resource=r"-ci-(deploy-\d+|boundary)$",
            why="the CI role deploys the stacks, which contain roles, policies, key and bucket policies; its "
                "boundary makes every role it creates carry the workload boundary and denies changes to itself "
                "and to the boundaries"),
    Allowed("PRIVILEGE_ESCALATION", frozenset({"identity"}), resource=r"-ci-(deploy-\d+|boundary)$",
            why="same as above: IAM deployment is the CI role's job, capped by its boundary"),
    Allowed("RESOURCE_POLICY_PRIVILEGE_ESCALATION", frozenset({"identity"}), resource=r"-ci-(deploy-\d+|boundary)$",
            why="the CI role writes bucket policies to deploy them but reads no team data; a policy change that "
                "granted it data would go through review of the stack's code, and CloudTrail records it"),
    Allowed("UNKNOWN_CONDITION_FOR_ACTION", frozenset({"identity", "endpoint"}),
            detail="^Unknown condition s3:ResourceAccount for action s3:",
            why="the perimeter puts s3:ResourceAccount on S3 statements; for the few actions whose reference "
                "lacks the key, StringEquals on a missing key is false: the statement fails closed"),
    Allowed("RESOURCE_MISMATCH", frozenset({"identity"}),
            resource="-(sagemaker-execution-policy|ci-boundary|workload-boundary)$",
            why="verb patterns (sagemaker:Create*, athena:Create* ...) on this environment's ARNs: parliament expands "
                "each to every action of the verb, some of which take other resource types; those stay ungranted "
                "because the ARN does not match them (the CI policy itself lists exact actions)"),
    Allowed("RESOURCE_STAR", frozenset({"identity"}), resource=r"-ci-(deploy-\d+|boundary)$",
            why="the deploy actions AWS only authorizes on Resource '*' (ec2:Describe*, CreateVpc, "
                "AllocateAddress ...), from the resource-type registry's UNSCOPED list"),
    Allowed("PERMISSIONS_MANAGEMENT_ACTIONS", frozenset({"identity"}), resource="-workload-boundary$",
            actions=SAGEMAKER_VPC_ENIS | {"kms:creategrant", "iam:passrole", "s3:putobjectacl",
                                          "s3:putobjectversionacl"},
            why="the workload boundary lets SageMaker jobs create their network interfaces, pass the "
                "environment's roles to SageMaker only, and create KMS grants only for AWS resources; "
                "s3:PutObject* includes the object-ACL actions, which do nothing on buckets whose ACLs are "
                "disabled (BucketOwnerEnforced on every bucket, rule s3-bucket-acls-disabled)"),
    Allowed("RESOURCE_MISMATCH", frozenset({"identity"}), resource=r"-ci-deploy-\d+$",
            why="each CI statement names one scope of the account and environment for a service "
                "(arn:aws:sagemaker:*:<account>:*/<env glob>, the environment's Glue and budget ARNs ...), "
                "which spans several resource types of that service; parliament matches every action against "
                "every resource of the statement, so an endpoint action is reported against a model ARN"),
    Allowed("RESOURCE_MISMATCH", frozenset({"identity"}), resource="-tracking-access$",
            actions=frozenset({"sagemaker-mlflow:accessui"}),
            why="parliament's service table predates SageMaker managed MLflow: AWS's service authorization "
                "reference scopes sagemaker-mlflow:AccessUI to the tracking server ARN it is granted on"),
]



@dataclass(frozen=True)
class Finding:
    stack: str
    resource: str
    kind: str
    issue: str
    detail: str
    actions: frozenset[str]

    def __str__(self) -> str:
        return f"{self.stack} {self.resource} ({self.kind}): {self.issue} {self.detail[:200]}"


def documents(view: Any) -> Iterator[tuple[Any, str, str]]:
    """(resource, kind, JSON document) for every policy document of a planned stack."""
    for resource in view.resources:
        if resource.type in DOCUMENTS:
            key, kind = DOCUMENTS[resource.type]
            if resource.inputs.get(key):
                yield resource, kind, resource.inputs[key]
        if resource.type == "aws:iam/role:Role":
            for item in resource.inputs.get("inlinePolicies") or []:
                yield resource, "identity", item["policy"]


def _actions(finding: Any) -> frozenset[str]:
    location = finding.location if isinstance(finding.location, dict) else {}
    actions = location.get("actions") or []
    if isinstance(finding.detail, list):
        actions = [d["action"] if isinstance(d, dict) else d for d in finding.detail]
    return frozenset(str(a).lower() for a in actions)


@functools.cache
def _analyze(text: str, community: bool) -> list[tuple[str, str, frozenset[str]]]:
    """(issue, detail, actions) of parliament's findings; documents repeat (every interface endpoint)."""
    policy = _parliament().analyze_policy_string(text, include_community_auditors=community)
    return [(f.issue, str(f.detail), _actions(f)) for f in policy.findings]


def findings(stack: str, view: Any) -> list[Finding]:
    """Parliament's findings on every document of the stack. Its community auditors (privilege
    escalation, credentials exposure, sensitive access) judge what an identity is granted, so they run
    on identity policies; trust, key, bucket and endpoint policies get parliament's core checks."""
    found = []
    for resource, kind, document in documents(view):
        text = document if isinstance(document, str) else json.dumps(document)
        for issue, detail, actions in _analyze(text, kind == "identity"):
            found.append(Finding(stack, resource.name, kind, issue, detail, actions))
    return found


@pytest.mark.parametrize("statement, issue", [
    ({"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/*"}, "UNKNOWN_ACTION"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b"}, "RESOURCE_MISMATCH"),
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
      "Condition": {"StringEquals": {"s3:ResourceAcount": "1"}}}, "UNKNOWN_CONDITION_FOR_ACTION"),
])
def test_parliament_imports_offline_and_finds_real_mistakes(statement, issue):
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert issue in {f.issue for f in _parliament().analyze_policy_string(document).findings}


def test_every_allow_list_entry_says_why():
    for entry in ALLOWED:
        assert len(entry.why) > 40 and entry.kinds <= {"identity", "trust", "key", "bucket", "endpoint"}, entry


@pytest.mark.parametrize("stack", STACKS)
def test_policy_documents_have_no_linter_findings(plans, stack):
    found = findings(stack, plans[stack])
    assert len({(r.name, k) for r, k, _ in documents(plans[stack])}) > 0
    unexpected = sorted({str(f) for f in found if not any(a.covers(f) for a in ALLOWED)})
    assert unexpected == []
