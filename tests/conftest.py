"""Shared fixtures: the example stacks planned once per test process (real program, Pulumi mocks)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STACKS = ROOT / "stacks"


class PlanView:
    """Queries over one planned stack's captured resources."""

    def __init__(self, plan):
        self.plan = plan
        self.resources = plan.resources
        self.by_urn = {r.urn: r for r in plan.resources}

    def of_type(self, token: str):
        return [r for r in self.resources if r.type == token]

    def named(self, name: str, token: str | None = None):
        found = [r for r in self.resources if r.name == name and (token is None or r.type == token)]
        assert len(found) == 1, f"expected one resource named {name!r} ({token}), found {len(found)}"
        return found[0]

    def children(self, parent):
        return [r for r in self.resources if r.parent == parent.urn]

    def attached_to(self, bucket, token: str):
        """Config resources (encryption, versioning ...) whose `bucket` input depends on this bucket."""
        return [r for r in self.of_type(token) if bucket.urn in r.property_dependencies.get("bucket", [])]

    def document(self, resource, key: str = "policy") -> dict:
        return json.loads(resource.inputs[key])

    def ci_deploy_statements(self) -> list[dict]:
        """The statements of every deploy policy of the platform's CI role (`<stack>-ci-deploy-<n>`)."""
        policies = [r for r in self.of_type("aws:iam/policy:Policy")
                    if re.fullmatch(rf"{self.plan.stack}-ci-deploy-\d+", r.name)]
        assert policies, f"{self.plan.stack} has no CI deploy policy"
        return [s for policy in policies for s in self.document(policy)["Statement"]]


@pytest.fixture(scope="session")
def plans() -> dict[str, PlanView]:
    from platform_lib.plan.runner import plan_stacks, stack_files

    planned = plan_stacks(stack_files(STACKS), jobs=1)
    for plan in planned:
        assert plan.error is None, f"{plan.stack}: {plan.error}"
    return {plan.stack: PlanView(plan) for plan in planned}
