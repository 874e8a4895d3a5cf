"""The Pulumi program as a function: read the stack's typed config, build its kind of stack, export
the contract. `__main__` only calls `main()`, so tests and `mlp plan` can run it under mocks."""

from __future__ import annotations

import pulumi

from infra.stacks import platform, team
from platform_lib.config.loader import ConfigError, from_pulumi_config
from platform_lib.config.schema import PlatformConfig


def main() -> None:
    try:
        config = from_pulumi_config()
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
    outputs = platform.build(config) if isinstance(config, PlatformConfig) else team.build(config)
    for key, value in outputs.items():
        pulumi.export(key, value)
