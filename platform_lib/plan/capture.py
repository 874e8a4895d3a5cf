"""Run a Pulumi program under mocks and capture what it would register, as the engine would see it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from . import sdk
from .mocks import PlanMocks

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class CapturedResource:
    """One registration: what `pulumi preview` would list, with the inputs policies judge."""

    type: str
    name: str
    urn: str
    parent: str | None
    provider: str | None          # URN of the provider resource, None for the default provider
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    id: str | None = None
    read: bool = False            # an existing resource read by the program (e.g. a StackReference)
    source_file: str | None = None  # where the program registered it (not in the JSON: moves with the code)
    source_line: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain, deterministic data: keys and dependency lists sorted."""
        return {
            "type": self.type, "name": self.name, "urn": self.urn, "parent": self.parent,
            "provider": self.provider, "custom": self.custom, "protect": self.protect,
            "retainOnDelete": self.retain_on_delete, "read": self.read, "inputs": sorted_data(self.inputs),
            "dependencies": sorted(self.dependencies),
            "propertyDependencies": {k: sorted(v) for k, v in sorted(self.property_dependencies.items())},
        }


@dataclass
class Capture:
    project: str
    stack: str
    resources: list[CapturedResource]
    outputs: dict[str, Any]
    unknown_invokes: list[str]


class ProgramError(Exception):
    """The program raised, or one of its outputs failed to resolve."""


def sorted_data(value: Any) -> Any:
    """JSON-able data with every mapping's keys in sorted order (lists keep theirs: order is data)."""
    if isinstance(value, dict):
        return {k: sorted_data(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_data(v) for v in value]
    return value


def unwrap(value: Any) -> Any:
    """Plain JSON-able data: secrets unwrapped, floats that are whole numbers made ints again."""
    if isinstance(value, dict):
        if sdk.is_secret(value):
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unwrap(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (str, int, bool)) or value is None or isinstance(value, float):
        return value
    return str(value)


class CapturingMonitor(sdk.MockMonitor):
    """A mock monitor that records parent, provider, dependencies and options of each registration
    (the stock one keeps only URN, id and state), and builds URNs the way the engine does."""

    def __init__(self, mocks: PlanMocks):
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.captured: list[CapturedResource] = []
        self.registered: list[str] = []  # URNs in order; a list, as the SDK registers from several threads
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent and parent != self.stack_urn:
            type_ = f"{parent.split('::')[2]}${type_}"  # the parent's qualified type, as the engine does
        return "urn:pulumi:" + "::".join([sdk.get_stack(), sdk.get_project(), type_, name])

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return sdk.RegisterResourceResponse(urn=urn)
        self.registered.append(urn)
        sdk.ensure_event_loop()
        inputs = sdk.deserialize_properties(request.object)
        args = pulumi.runtime.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
            resource_id=request.importId, custom=request.custom or False,
        )
        resource_id, state = self.mocks.new_resource(args)
        if request.type.startswith("pulumi:providers:"):
            self.plan_mocks.provider_config[f"{urn}::{resource_id}"] = inputs
        self.captured.append(CapturedResource(
            type=request.type, name=request.name, urn=urn,
            parent=request.parent if request.parent and request.parent != self.stack_urn else None,
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
            custom=bool(request.custom), inputs=unwrap(inputs),
            dependencies=[d for d in request.dependencies if d != self.stack_urn],
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items() if v.urns},
            protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete), id=resource_id,
            source_file=request.sourcePosition.uri.removeprefix("file://") or None,
            source_line=request.sourcePosition.line or None,
        ))
        self.resources[urn] = sdk.ResourceRegistration(urn, resource_id, state)
        state_proto = sdk.sync_await(sdk.serialize_properties(state, {}))
        return sdk.RegisterResourceResponse(urn=urn, id=resource_id, object=state_proto)

    def ReadResource(self, request):
        response = super().ReadResource(request)
        self.registered.append(response.urn)
        registration = self.resources[response.urn]
        self.captured.append(CapturedResource(
            type=request.type, name=request.name, urn=response.urn,
            parent=request.parent if request.parent and request.parent != self.stack_urn else None,
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
            custom=True, inputs={"id": request.id}, id=registration.id, read=True,
        ))
        return response

    def SignalAndWaitForShutdown(self, request):
        return sdk.Empty()


def run(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    organization: str = "organization",
) -> Capture:
    """Evaluate ``program`` as `pulumi up` would, against mocks; raise ProgramError if it fails."""
    sdk.reset_options(project=project, stack=stack, preview=False, organization=organization)
    pulumi.runtime.set_all_config(dict(config))
    mocks = PlanMocks(stack_outputs)
    monitor = CapturingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor,
                             organization=organization, logger=logging.getLogger("pulumi.plan"))
    root = sdk.get_root_resource()
    try:
        sdk.sync_await(sdk.run_pulumi_func(program))
        outputs = {k: sdk.sync_await(pulumi.Output.from_input(v).future()) for k, v in root.outputs.items()}
    except SystemExit as exc:  # the engine would report a failed program, not exit with its code
        raise ProgramError(f"the program called sys.exit({exc.code!r}) before it finished") from exc
    except Exception as exc:  # the program's own error is the message the user needs
        raise ProgramError(_describe(exc)) from exc
    duplicates = [urn for urn, count in Counter(monitor.registered).items() if count > 1]
    if duplicates:
        raise ProgramError("duplicate resource URN " + ", ".join(repr(u) for u in duplicates)
                           + ": two resources of the same type and name (under the same parent); "
                           "the Pulumi engine refuses this, give each a unique name")
    return Capture(project, stack, monitor.captured, unwrap(outputs), sorted(mocks.unknown_invokes))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, (pulumi.RunError,)) else f"{type(exc).__name__}: {text}"
