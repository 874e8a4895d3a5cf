"""Every Pulumi SDK internal the offline plan relies on, named once.

The mocks and the capturing monitor need parts of the SDK that are not its public API (the mock
monitor's registration record, the RPC (de)serialisers and signature keys, the settings reset, the
synchronous awaiter). They are looked up here, at import, so an SDK upgrade that moves one fails
at once with a message naming it (and ``tests/plan/test_sdk.py`` says which) instead of planning
something wrong.
"""

from __future__ import annotations

import importlib
from typing import Any

from google.protobuf import empty_pb2


class SdkMoved(ImportError):
    """A Pulumi SDK internal this module wraps is gone or changed."""


def _internal(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        import pulumi

        raise SdkMoved(f"pulumi {getattr(pulumi, '__version__', '?')}: {module}.{name} is gone; "
                       f"platform_lib/plan/sdk.py must follow the SDK") from exc


MockMonitor = _internal("pulumi.runtime.mocks", "MockMonitor")
ResourceRegistration = MockMonitor.ResourceRegistration
ensure_event_loop = _internal("pulumi.runtime.sync_await", "_ensure_event_loop")
sync_await = _internal("pulumi.runtime.sync_await", "_sync_await")
run_pulumi_func = _internal("pulumi.runtime.stack", "run_pulumi_func")
reset_options = _internal("pulumi.runtime.settings", "reset_options")
get_root_resource = _internal("pulumi.runtime.settings", "get_root_resource")
get_stack = _internal("pulumi.runtime.settings", "get_stack")
get_project = _internal("pulumi.runtime.settings", "get_project")
deserialize_properties = _internal("pulumi.runtime.rpc", "deserialize_properties")
serialize_properties = _internal("pulumi.runtime.rpc", "serialize_properties")
SIG_KEY: str = _internal("pulumi.runtime.rpc", "_special_sig_key")
SECRET_SIG: str = _internal("pulumi.runtime.rpc", "_special_secret_sig")
RegisterResourceResponse = _internal("pulumi.runtime.proto.resource_pb2", "RegisterResourceResponse")
Empty = empty_pb2.Empty


def is_secret(value: Any) -> bool:
    """A deserialised secret: ``{<sig key>: <secret sig>, "value": ...}``."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG
