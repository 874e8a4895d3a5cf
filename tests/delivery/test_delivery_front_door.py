"""FrontDoorClient against a local door that checks SigV4 as API Gateway does: the signature's region
must be the door's, and the signature must verify (botocore recomputes it here with the same secret)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from platform_lib.aws import Aws
from platform_lib.front_door import FrontDoorClient, FrontDoorError

HOST = "scorer.fraud.ml.example.com"
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class Door:
    """The door's state: the region the hostname answers from, and what it saw."""

    def __init__(self) -> None:
        self.region = "eu-west-1"
        self.status = "InService"
        self.seen: list[str] = []


def verified(handler: BaseHTTPRequestHandler, body: bytes, region: str) -> bool:
    headers = {k: v for k, v in handler.headers.items() if k.lower() in ("content-type", "accept", "x-amz-date")}
    request = AWSRequest(method="POST", url=f"https://{handler.headers['Host']}{handler.path}", data=body,
                         headers=headers)
    request.context["timestamp"] = handler.headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials(KEY, SECRET), "execute-api", region)
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return f"Signature={signature}" in handler.headers["Authorization"]


@pytest.fixture
def door() -> Iterator[tuple[Door, str]]:
    state = Door()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def answer(self, status: int, document: dict) -> None:
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            state.seen.append(f"GET {self.path}")
            self.answer(200, {"status": state.status, "region": state.region})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            scope = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/execute-api/aws4_request",
                              self.headers.get("Authorization", ""))
            state.seen.append(f"POST {self.path} signed for {scope.group(1) if scope else None}")
            if not scope or scope.group(1) != state.region:
                self.answer(403, {"message": f"Credential should be scoped to a valid region '{state.region}'. "})
            elif self.headers["Host"] != HOST or not verified(self, body, state.region):
                self.answer(403, {"message": "The request signature we calculated does not match"})
            else:
                self.answer(200, {"scored": json.loads(body), "region": state.region})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def client(url: str) -> FrontDoorClient:
    session = boto3.session.Session(aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name="eu-west-1")
    return FrontDoorClient(Aws(session, Config()), HOST, base_url=url)


def test_invoke_signs_for_the_region_the_door_names(door):
    state, url = door
    front = client(url)
    assert json.loads(front.invoke(b'{"amount": 12.5}')) == {"scored": {"amount": 12.5}, "region": "eu-west-1"}
    assert state.seen == ["GET /ping", "POST /invocations signed for eu-west-1"]


def test_after_a_failover_the_client_asks_again_and_re_signs_once(door):
    state, url = door
    front = client(url)
    assert front.region() == "eu-west-1"
    state.region = "us-east-1"     # eu-west-1 lost: Route 53 now answers with the us-east-1 door
    assert json.loads(front.invoke(b"[1]"))["region"] == "us-east-1"
    assert state.seen == ["GET /ping", "POST /invocations signed for eu-west-1", "GET /ping",
                          "POST /invocations signed for us-east-1"]


def test_a_door_whose_endpoint_is_not_in_service_is_refused_before_signing(door):
    state, url = door
    state.status = "Updating"
    with pytest.raises(FrontDoorError, match="is not in service: {'status': 'Updating', 'region': 'eu-west-1'}"):
        client(url).invoke(b"{}")
    assert state.seen == ["GET /ping"]
