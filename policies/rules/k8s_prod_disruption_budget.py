"""In prod, every team Deployment is covered by a PodDisruptionBudget."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.rule import Rule
from policies.support import is_known, of_types, props_of
from policies.support.kubernetes import SYSTEM_NAMESPACES, mapping, namespace_of, object_name

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CONFIG_KEY = "requireDisruptionBudget"


def _covers(budget_props: dict, namespace: str, labels: dict) -> bool:
    """Whether a PDB in ``namespace`` selects pods labelled ``labels`` (matchLabels; an empty selector
    selects every pod of the namespace)."""
    if namespace_of(budget_props) != namespace:
        return False
    selector = mapping(mapping(budget_props.get("spec")).get("selector"))
    if selector.get("matchExpressions"):
        return True   # expressions: trust them rather than re-implement the matcher
    return all(labels.get(k) == v for k, v in mapping(selector.get("matchLabels")).items())


def _cluster(resource) -> str | None:
    """The Kubernetes provider (cluster) of an object: budgets protect pods of their own cluster only."""
    return getattr(resource.provider, "urn", None)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """When the environment's config sets requireDisruptionBudget (prod), each Deployment outside
    kube-system has a PodDisruptionBudget in its namespace of the same cluster (Kubernetes provider) whose
    selector matches its pod template:
    node drains (upgrades, scale-in, spot) then evict one pod at a time instead of all of them."""
    if not (args.get_config() or {}).get(CONFIG_KEY):
        return
    budgets = [(props_of(b), _cluster(b)) for b in of_types(args.resources, (PDB,))]
    for deployment in of_types(args.resources, (DEPLOYMENT,)):
        props = props_of(deployment)
        namespace = namespace_of(props)
        if namespace in SYSTEM_NAMESPACES:
            continue
        template = mapping(mapping(props.get("spec")).get("template"))
        labels = {k: v for k, v in mapping(mapping(template.get("metadata")).get("labels")).items() if is_known(v)}
        cluster = _cluster(deployment)
        if not any(_covers(b, namespace, labels) for b, where in budgets if where == cluster):
            report_violation(f"Deployment '{object_name(deployment)}' has no PodDisruptionBudget; required in "
                             f"prod: a PodDisruptionBudget in '{namespace}' selecting its pods (e.g. "
                             f"maxUnavailable: 1)", deployment.urn)


RULE = Rule(
    id="k8s-prod-disruption-budget",
    description="In prod, Kubernetes Deployments are covered by a PodDisruptionBudget.",
    severity="medium",
    control="AWS Well-Architected REL10-BP01",
    kind="stack",
    validate=validate,
    remediation="Serve through the KubernetesServing component (a PDB in prod), or add a PodDisruptionBudget "
                "selecting the Deployment's pods.",
    config_schema={CONFIG_KEY: {"type": "boolean", "default": False,
                                "description": "require a PodDisruptionBudget per Deployment (prod)"}},
)
