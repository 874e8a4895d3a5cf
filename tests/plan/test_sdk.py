"""The Pulumi SDK internals the plan relies on are where `platform_lib/plan/sdk.py` says: an SDK
upgrade that moves or reshapes one fails here, naming it."""

import inspect

import pytest

from platform_lib.plan import sdk


def test_a_moved_internal_fails_loudly_naming_it():
    with pytest.raises(sdk.SdkMoved, match=r"pulumi\.runtime\.rpc\._gone is gone; platform_lib/plan/sdk\.py"):
        sdk._internal("pulumi.runtime.rpc", "_gone")


def test_mock_monitor_has_what_the_capturing_monitor_overrides_and_uses():
    for method in ("RegisterResource", "ReadResource", "SignalAndWaitForShutdown", "GetDeploymentInfo"):
        assert callable(getattr(sdk.MockMonitor, method)), method
    assert sdk.ResourceRegistration._fields == ("urn", "id", "state")
    assert list(inspect.signature(sdk.MockMonitor.__init__).parameters) == ["self", "mocks"]


def test_settings_and_runner_signatures():
    assert {"project", "stack", "preview", "organization"} <= set(inspect.signature(sdk.reset_options).parameters)
    assert list(inspect.signature(sdk.run_pulumi_func).parameters)[:1] == ["func"]
    import pulumi.runtime

    assert "monitor" in inspect.signature(pulumi.runtime.set_mocks).parameters


def test_a_secret_input_arrives_in_the_sdk_encoding_and_capture_unwraps_it():
    from google.protobuf import struct_pb2

    from platform_lib.plan.capture import unwrap

    assert (sdk.SIG_KEY, sdk.SECRET_SIG) == ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
    struct = struct_pb2.Struct()
    struct.update({"password": {sdk.SIG_KEY: sdk.SECRET_SIG, "value": "hunter2"}})
    decoded = sdk.deserialize_properties(struct)
    assert sdk.is_secret(decoded["password"]) and unwrap(decoded) == {"password": "hunter2"}


def test_register_resource_response_has_the_fields_the_monitor_sets():
    fields = set(sdk.RegisterResourceResponse.DESCRIPTOR.fields_by_name)
    assert {"urn", "id", "object"} <= fields
