"""The SageMaker inference contract against a real `serve` process (2 workers, default handler)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

pytestmark = pytest.mark.slow
ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
EXPECTED = [[1.0, 5.5], [4.0, 11.5]]  # the fixture model: y = [x0, x1 + x2 + 0.5]
MAX_BODY = 6 * 1024 * 1024


@pytest.fixture(scope="module")
def server(kit: SimpleNamespace, linear_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    srv = kit.Server(linear_model_dir, tmp_path_factory.mktemp("contract") / "server.log", workers=2)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def metric(text: str, name: str, **labels: str) -> float:
    label = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(f"{name}{{{label}}}" if label else name) + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_ping_is_200_once_loaded(client: httpx.Client) -> None:
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps(ROWS).encode()),
        ("application/json; charset=utf-8", json.dumps({"instances": ROWS}).encode()),
        ("text/csv", b"1,2,3\n4,5,6\n"),
        ("application/x-npy", npy(np.array(ROWS, dtype=np.float64))),
    ],
)
def test_each_content_type_in(client: httpx.Client, content_type: str, body: bytes) -> None:
    response = client.post("/invocations", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == EXPECTED


def test_a_flat_json_list_is_one_row(client: httpx.Client) -> None:
    response = client.post("/invocations", json=[1, 2, 3])
    assert response.json() == [[1.0, 5.5]]


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
def test_json_out(client: httpx.Client, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.post("/invocations", json=ROWS, headers=headers)
    assert response.headers["content-type"] == "application/json"
    assert response.json() == EXPECTED


def test_csv_out(client: httpx.Client) -> None:
    response = client.post("/invocations", json=ROWS, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv"
    rows = [[float(v) for v in line.split(",")] for line in response.text.splitlines()]
    assert rows == EXPECTED


def test_npy_out_with_q_values(client: httpx.Client) -> None:
    accept = "text/csv;q=0.5, application/x-npy"
    response = client.post("/invocations", json=ROWS, headers={"Accept": accept})
    assert response.headers["content-type"] == "application/x-npy"
    array = np.load(io.BytesIO(response.content))
    assert array.dtype == np.float32
    assert array.tolist() == EXPECTED


@pytest.mark.parametrize(
    ("content_type", "body", "status", "message"),
    [
        ("application/json", b"[[1, 2, 3]", 400, "malformed JSON"),
        ("application/json", b'{"rows": [[1, 2, 3]]}', 400, "instances"),
        ("application/json", b"[[1, 2, 3], [4, 5]]", 400, "equal-length"),
        ("application/json", b'[["a", "b", "c"]]', 400, "numbers"),
        ("application/json", b"[[1, 2]]", 400, "rejected input of shape (1, 2)"),
        ("text/csv", b"a,b,c\n", 400, "malformed CSV"),
        ("text/csv", b"1,2,3\n4,5\n", 400, "row 2 has 2 values"),
        ("application/x-npy", b"definitely not npy", 400, "malformed .npy"),
        ("application/xml", b"<rows/>", 415, "unsupported Content-Type"),
    ],
)
def test_bad_bodies_get_4xx_with_a_message(
    client: httpx.Client, content_type: str, body: bytes, status: int, message: str
) -> None:
    response = client.post("/invocations", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert message in response.json()["error"]
    ok = client.post("/invocations", json=ROWS)  # the server keeps answering on the same connection
    assert ok.status_code == 200


def test_unsupported_accept_is_406(client: httpx.Client) -> None:
    response = client.post("/invocations", json=ROWS, headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert "application/xml" in response.json()["error"]


def test_wrong_method_and_unknown_path(client: httpx.Client) -> None:
    assert client.get("/invocations").status_code == 405
    assert client.get("/nope").status_code == 404


def test_oversize_by_content_length_is_413(client: httpx.Client) -> None:
    body = b"[" + b"0," * (MAX_BODY // 2) + b"0]"
    response = client.post("/invocations", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "exceeds" in response.json()["error"]
    assert client.post("/invocations", json=ROWS).status_code == 200


def test_oversize_streamed_without_content_length_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(7):
            yield b" " * (1024 * 1024)

    response = client.post("/invocations", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert client.post("/invocations", json=ROWS).status_code == 200


def test_a_body_just_under_the_limit_is_read(client: httpx.Client) -> None:
    body = json.dumps(ROWS).encode()
    body += b" " * (MAX_BODY - len(body))
    response = client.post("/invocations", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


def test_metrics_counters_move_across_workers(client: httpx.Client) -> None:
    before = client.get("/metrics").text
    for _ in range(20):
        with httpx.Client(base_url=client.base_url) as fresh:  # new connections spread over the workers
            assert fresh.post("/invocations", json=ROWS).status_code == 200
    assert client.post("/invocations", content=b"[", headers={"Content-Type": "application/json"}).status_code == 400
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = response.text

    ok = {"path": "/invocations", "status": "200"}
    bad = {"path": "/invocations", "status": "400"}
    assert metric(after, "serving_requests_total", **ok) - metric(before, "serving_requests_total", **ok) == 20
    assert metric(after, "serving_requests_total", **bad) - metric(before, "serving_requests_total", **bad) == 1
    count = "serving_request_duration_seconds_count"
    assert metric(after, count) - metric(before, count) == 21
    assert metric(after, "serving_request_duration_seconds_bucket", le="+Inf") == metric(after, count)
    batch_rows = "serving_batch_size_sum"
    assert metric(after, batch_rows) - metric(before, batch_rows) == 2 * 20
    assert metric(after, "serving_model_loaded") == 1
    assert metric(after, "serving_workers") == 2
    assert "# TYPE serving_requests_total counter" in after
    assert "# TYPE serving_request_duration_seconds histogram" in after
    assert "# TYPE serving_batch_size histogram" in after
