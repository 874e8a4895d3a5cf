"""Calling a model through its stable hostname (`TeamOutputs.hostnames`), signed with SigV4.

The hostname answers from the nearest healthy region, and a SigV4 signature is scoped to one region,
so the client asks the door which region it is (`GET /ping`, unauthenticated: `{"status", "region"}`),
signs `POST /invocations` for that region (service `execute-api`), and when a failover moved the
hostname to another region between the two (API Gateway answers 403 naming the region it expected),
asks again and re-signs once.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from platform_lib.aws import Aws

TIMEOUT_S = 30
# API Gateway's answer to a signature scoped to another region.
WRONG_REGION = re.compile(r"Credential should be scoped to a valid region")


class FrontDoorError(Exception):
    """The door answered with an error, or not at all."""


@dataclass
class FrontDoorClient:
    """`FrontDoorClient(aws, "scorer.fraud.ml.example.com").invoke(b'{"x": 1}')`."""

    aws: Aws
    hostname: str
    base_url: str = ""            # https://<hostname> unless given (tests: a local server)
    _region: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.base_url or f"https://{self.hostname}"

    def region(self, refresh: bool = False) -> str:
        """The region the hostname answers from now, and whether its endpoint is in service."""
        if self._region is None or refresh:
            status, body = self._send(urllib.request.Request(f"{self.url}/ping", method="GET"))
            if status != 200:
                raise FrontDoorError(f"{self.hostname}/ping answered {status}: {body[:200]!r}")
            try:
                answer = json.loads(body)
            except ValueError:
                raise FrontDoorError(f"{self.hostname}/ping answered no JSON: {body[:200]!r}") from None
            if answer.get("status") != "InService" or not answer.get("region"):
                raise FrontDoorError(f"{self.hostname} is not in service: {answer}")
            self._region = str(answer["region"])
        return self._region

    def invoke(self, body: bytes, content_type: str = "application/json", accept: str = "application/json") -> bytes:
        for attempt in (1, 2):
            region = self.region(refresh=attempt > 1)
            status, answer = self._send(self._signed(body, content_type, accept, region))
            if status == 200:
                return answer
            if status == 403 and attempt == 1 and WRONG_REGION.search(answer.decode("utf-8", "replace")):
                continue   # a failover moved the hostname: ask the door again, re-sign
            raise FrontDoorError(f"{self.hostname} ({region}) answered {status}: "
                                 f"{answer.decode('utf-8', 'replace')[:500]}")
        raise AssertionError("unreachable")

    def _signed(self, body: bytes, content_type: str, accept: str, region: str) -> urllib.request.Request:
        credentials = self.aws.session.get_credentials()
        if credentials is None:
            raise FrontDoorError("no AWS credentials to sign with (profile, environment or role)")
        url = f"https://{self.hostname}/invocations"   # what the door sees: the Host it verifies
        request = AWSRequest(method="POST", url=url, data=body,
                             headers={"Content-Type": content_type, "Accept": accept})
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        headers = {key: value for key, value in request.headers.items()}
        headers["Host"] = self.hostname   # signed as the hostname, whatever base_url connects to
        return urllib.request.Request(f"{self.url}/invocations", data=body, headers=headers, method="POST")

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:   # noqa: S310 (https or a test URL)
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise FrontDoorError(f"{self.hostname}: {exc}") from None
