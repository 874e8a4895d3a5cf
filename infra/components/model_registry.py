"""A team's model registry: a SageMaker model package group per declared model, readable from the
organisation's other environment accounts only, and a draft SageMaker model card per model as the
template of its versions' cards."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import Names

# What another account may do with a group: see it and its versions, and pull an approved version
# (the artifact itself is shared through the models bucket and key, not through the group).
READ_ACTIONS = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages"]
CARD_SUFFIX = "card-template"   # `<team>-<env>-<model>-card-template`: a Draft card each version copies


@dataclass(frozen=True)
class ModelSpec:
    """A declared model: its name, what it does, and the gates (metric, comparison, threshold) that
    approving a version requires."""

    name: str
    description: str
    gates: tuple[tuple[str, str, float], ...] = ()

    def gate_texts(self) -> list[str]:
        return [f"{metric} {comparison} {threshold:g}" for metric, comparison, threshold in self.gates]


@dataclass(frozen=True)
class ModelRegistryArgs:
    names: Names
    region: str                              # the primary region: models are trained and registered there
    models: Sequence[ModelSpec]
    reader_accounts: Sequence[str]           # the organisation's other environment accounts
    protect: bool


def group_policy(group_arn: str, readers: Sequence[str]) -> dict[str, Any]:
    """Read-only access to a group and its versions for named accounts; never a wildcard principal."""
    package_arn = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
    return documents.document({
        "Sid": "ReadFromOrganisationAccounts",
        "Effect": "Allow",
        "Principal": {"AWS": [documents.root(account) for account in readers]},
        "Action": READ_ACTIONS,
        "Resource": [group_arn, package_arn],
    })


def _policy_json(group_arn: str, readers: Sequence[str]) -> str:
    return json.dumps(group_policy(group_arn, readers))


def card_template(names: Names, model: ModelSpec) -> dict[str, Any]:
    """A SageMaker model card (its JSON schema) that a registered version copies and fills: what the
    model is for, who owns it, and the gates its evaluation must pass (thresholds as the values)."""
    card: dict[str, Any] = {
        "model_overview": {"model_name": names.resource(model.name), "model_description": model.description,
                           "model_owner": names.scope},
        "intended_uses": {"purpose_of_model": model.description, "risk_rating": "Unknown"},
        "additional_information": {"custom_details": {
            "package_group": names.resource(model.name),
            "promotion_gates": "; ".join(model.gate_texts()) or "none"}},
    }
    if model.gates:
        card["evaluation_details"] = [{"name": "promotion gates", "metric_groups": [{
            "name": "gates", "metric_data": [
                {"name": metric, "type": "number", "value": threshold, "notes": f"threshold: approval requires {text}"}
                for (metric, _, threshold), text in zip(model.gates, model.gate_texts(), strict=True)]}]}]
    return card


class ModelRegistry(pulumi.ComponentResource):
    """Package groups `<team>-<env>-<model>` (protected in prod, never deleted with the stack)."""

    def __init__(self, name: str, args: ModelRegistryArgs, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:registry:ModelRegistry", name, None, opts)
        names = args.names
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.groups: dict[str, aws.sagemaker.ModelPackageGroup] = {}
        for model in args.models:
            group_name = names.resource(model.name)
            group = aws.sagemaker.ModelPackageGroup(
                group_name, model_package_group_name=group_name,
                model_package_group_description=model.description[:1024],
                opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=args.protect,
                                            retain_on_delete=True),
            )
            if args.reader_accounts:
                readers = list(args.reader_accounts)
                aws.sagemaker.ModelPackageGroupPolicy(
                    f"{group_name}-policy", model_package_group_name=group.model_package_group_name,
                    resource_policy=group.arn.apply(functools.partial(_policy_json, readers=readers)),
                    opts=child,
                )
            aws.sagemaker.ModelCard(
                f"{group_name}-card", model_card_name=f"{group_name}-{CARD_SUFFIX}", model_card_status="Draft",
                content=json.dumps(card_template(names, model), sort_keys=True), opts=child,
            )
            self.groups[model.name] = group
        self.register_outputs({"groups": {m: g.model_package_group_name for m, g in self.groups.items()}})

    @property
    def group_names(self) -> dict[str, pulumi.Output[str]]:
        return {model: group.model_package_group_name for model, group in self.groups.items()}
