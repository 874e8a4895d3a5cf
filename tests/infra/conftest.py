"""Run one component alone, with its args, under the same mocks `mlp plan` uses."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi_aws as aws
import pytest

from infra.naming import Names
from platform_lib.plan import capture

ACCOUNT = "123456789012"


class Registered:
    """What one component registered: queries by type and logical name."""

    def __init__(self, resources: list[capture.CapturedResource]):
        self.resources = resources
        self.by_urn = {r.urn: r for r in resources}

    def of_type(self, token: str) -> list[capture.CapturedResource]:
        return [r for r in self.resources if r.type == token]

    def named(self, name: str, token: str | None = None) -> capture.CapturedResource:
        found = [r for r in self.resources if r.name == name and (token is None or r.type == token)]
        assert len(found) == 1, f"expected one resource named {name!r} ({token}), found {len(found)}"
        return found[0]

    def document(self, resource: capture.CapturedResource, key: str = "policy") -> dict:
        return json.loads(resource.inputs[key])

    def region_of(self, resource: capture.CapturedResource) -> str:
        assert resource.provider, f"{resource.name} has no explicit provider"
        return self.by_urn[resource.provider].inputs["region"]


Build = Callable[[dict[str, aws.Provider]], object]


@pytest.fixture
def component() -> Callable[..., Registered]:
    """`component(build, regions)` runs `build(providers)` as the whole program of a stack."""

    def run(build: Build, regions: tuple[str, ...] = ("eu-west-1",)) -> Registered:
        def program() -> None:
            providers = {r: aws.Provider(f"aws-{r}", region=r, allowed_account_ids=[ACCOUNT]) for r in regions}
            build(providers)

        result = capture.run(program, project="ml-platform", stack="component", config={})
        return Registered(result.resources)

    return run


@pytest.fixture
def team_names() -> Names:
    return Names("fraud", "dev", ACCOUNT)


@pytest.fixture
def platform_names() -> Names:
    return Names("platform", "prod", ACCOUNT)
