"""Factories for pulumi-policy arguments, built with the SDK's public constructors.

Exposed as the ``kit`` fixture (not importable helpers: test directories have no __init__.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies.rule import Rule
from policies.support import SECRET_SIG, SPECIAL_SIG_KEY

STACK = "fraud-dev"
DEFAULT_TAGS = {"team": "fraud", "env": "dev", "cost-center": "cc-1234", "managed-by": "pulumi"}
UNKNOWN_STRING = UNKNOWN_STRING_VALUE  # the engine's "computed string" sentinel
UNKNOWN_BOOL = UNKNOWN_BOOLEAN_VALUE

_DEFAULT = object()


class Kit:
    """Builders for the arguments the CLI and the offline plan pass to validators."""

    def __init__(self, mode: str = "plan") -> None:
        self.mode = mode

    def _props(self, props: Mapping[str, Any]) -> Any:
        """Plain dicts (offline plan) or the CLI's unknown-checking proxy."""
        return unknown_checking_proxy(dict(props)) if self.mode == "cli" else dict(props)

    unknown = UNKNOWN_STRING
    unknown_bool = UNKNOWN_BOOL
    default_tags = DEFAULT_TAGS

    @staticmethod
    def urn(resource_type: str, name: str, stack: str = STACK) -> str:
        return f"urn:pulumi:{stack}::ml-platform::{resource_type}::{name}"

    @staticmethod
    def secret(value: Any) -> dict[str, Any]:
        """A value as pulumi mocks deliver secrets."""
        return {SPECIAL_SIG_KEY: SECRET_SIG, "value": value}

    @staticmethod
    def opts(protect: bool = False) -> PolicyResourceOptions:
        return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)

    def provider(self, tags: Mapping[str, str] | None = None, as_json: bool = True,
                 name: str = "aws-eu-west-1") -> PolicyProviderResource:
        """An aws provider with defaultTags (JSON-encoded, as explicit providers send them)."""
        default_tags = {"tags": dict(DEFAULT_TAGS if tags is None else tags)}
        props = {"region": "eu-west-1",
                 "defaultTags": json.dumps(default_tags) if as_json else default_tags}
        return PolicyProviderResource("pulumi:providers:aws", self._props(props),
                                      self.urn("pulumi:providers:aws", name), name)

    def args(self, resource_type: str, props: Mapping[str, Any], name: str = "res", *,
             protect: bool = False, provider: Any = _DEFAULT,
             config: Mapping[str, Any] | None = None) -> ResourceValidationArgs:
        """Arguments of a resource rule."""
        return ResourceValidationArgs(
            resource_type, self._props(props), self.urn(resource_type, name), name, self.opts(protect),
            self.provider() if provider is _DEFAULT else provider, config, None)

    def resource(self, resource_type: str, props: Mapping[str, Any], name: str, *,
                 protect: bool = False, provider: Any = _DEFAULT,
                 deps: Mapping[str, Sequence[PolicyResource]] | None = None,
                 dependencies: Sequence[PolicyResource] | None = None) -> PolicyResource:
        """A stack resource; ``deps`` are its property dependencies (prop -> resources)."""
        property_dependencies = {k: list(v) for k, v in (deps or {}).items()}
        all_deps = list(dependencies) if dependencies is not None else [
            r for refs in property_dependencies.values() for r in refs]
        return PolicyResource(
            resource_type, self._props(props), self.urn(resource_type, name), name, self.opts(protect),
            self.provider() if provider is _DEFAULT else provider, None, all_deps,
            property_dependencies)

    @staticmethod
    def stack(*resources: PolicyResource, config: Mapping[str, Any] | None = None) -> StackValidationArgs:
        return StackValidationArgs(list(resources), config, None)

    @staticmethod
    def run(rule: Rule, args: Any) -> list[tuple[str, str | None]]:
        """Violations (message, urn) the rule reports for ``args``."""
        found: list[tuple[str, str | None]] = []

        def report(message: str, urn: str | None = None) -> None:
            found.append((message, urn))

        rule.check(args, report)
        return found

    # -- S3 ---------------------------------------------------------------------------------

    def bucket(self, name: str = "raw", *, tags: Mapping[str, str] | None = None,
               known_name: bool = True, **props: Any) -> PolicyResource:
        """A bucket named ``fraud-dev-<name>`` (or with an unknown name, as in a preview)."""
        body = {"bucket": f"fraud-dev-{name}" if known_name else UNKNOWN_STRING, **props}
        if tags is not None:
            body["tags"] = dict(tags)
        return self.resource("aws:s3/bucket:Bucket", body, name)

    def bucket_config(self, resource_type: str, bucket: PolicyResource, props: Mapping[str, Any],
                      name: str | None = None, *, link: str = "deps") -> PolicyResource:
        """A config resource targeting ``bucket`` via property dependency, value, or dependencies.

        ``link``: ``deps`` (preview: bucket input unknown, property_dependencies set), ``value``
        (bucket name only), ``plain-deps`` (only the resource's ``dependencies``).
        """
        bucket_name = bucket.props["__target"]["bucket"] if self.mode == "cli" else bucket.props["bucket"]
        body = {"bucket": bucket_name if link == "value" else UNKNOWN_STRING, **props}
        name = name or f"{bucket.name}-{resource_type.split(':')[-1].lower()}"
        if link == "deps":
            return self.resource(resource_type, body, name, deps={"bucket": [bucket]})
        if link == "plain-deps":
            return self.resource(resource_type, body, name, dependencies=[bucket])
        return self.resource(resource_type, body, name, dependencies=[])


@pytest.fixture(params=["plan", "cli"])
def kit(request: pytest.FixtureRequest) -> Kit:
    """Builders; every test runs with plain props (mlp plan) and with proxied props (pulumi CLI)."""
    return Kit(request.param)
