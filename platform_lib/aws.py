"""The one way the library talks to AWS: a boto3 session with the platform's retry and endpoint policy.

Nothing is created at import time. ``AWS_ENDPOINT_URL`` (honoured by botocore itself, also per service
as ``AWS_ENDPOINT_URL_<SERVICE>``) points every client at an emulator such as moto; ``AWS_PROFILE`` /
``--profile`` and the region come from the usual places unless given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Aws:
    """A boto3 session plus the client config every client of the library uses."""

    session: boto3.session.Session
    config: Config
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict, repr=False, compare=False)

    def client(self, service: str, region: str | None = None) -> Any:
        """One client per service and region (clients are thread-safe; creating one costs ~0.2 s)."""
        key = (service, region or self.session.region_name)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=key[1], config=self.config)
        return self._clients[key]

    @property
    def region(self) -> str | None:
        return self.session.region_name


def session(region: str | None = None, profile: str | None = None, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
            user_agent: str = "ml-platform-blueprint") -> Aws:
    """A session for ``region`` (default: the profile's or ``AWS_REGION``) with adaptive retries.

    Adaptive mode backs off on throttling client-side, which matters when waiting on many jobs.
    """
    boto = boto3.session.Session(profile_name=profile, region_name=region)
    config = Config(retries={"mode": "adaptive", "max_attempts": max_attempts},
                    user_agent_extra=user_agent, connect_timeout=10, read_timeout=60)
    return Aws(boto, config)
