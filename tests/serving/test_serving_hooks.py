"""User hooks from `code/inference.py` in a real server (`python -m serving`), and /ping while loading."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import torch

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
TRAINING_HANDLER = REPO / "training" / "examples" / "digits" / "inference.py"  # what every example model ships

CUSTOM_HOOKS = """
    import json
    import os
    import time
    from pathlib import Path

    import torch


    class Unsupported(ValueError):
        status_code = 415


    def model_fn(model_dir):
        gate = Path(os.environ["TEST_MODEL_GATE"])
        while not gate.exists():  # the test decides when loading finishes
            time.sleep(0.05)
        return torch.jit.load(os.path.join(model_dir, "model.pt"))


    def input_fn(request_body, content_type):
        if content_type == "application/xml":
            raise Unsupported("no XML here")
        if content_type != "text/plain":
            raise ValueError(f"custom input_fn wants text/plain, got {content_type}")
        if request_body == b"boom":
            raise RuntimeError("boom")
        return torch.tensor([[float(v) for v in request_body.split()]])


    def output_fn(prediction, accept):
        return json.dumps({"y": prediction.tolist(), "accept": accept}), "application/vnd.test+json"
"""


def test_ping_503_while_loading_then_custom_hooks(
    kit: SimpleNamespace, linear_model_dir: Path, tmp_path: Path, start_server
) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(linear_model_dir, model_dir)
    kit.write_code(model_dir, CUSTOM_HOOKS)
    gate = tmp_path / "gate"
    server = start_server(model_dir, module=True, env={"TEST_MODEL_GATE": str(gate), "SERVING_MODEL_WAIT_S": "0.2"})
    server.wait_listening()
    ping = httpx.get(server.url + "/ping")
    assert ping.status_code == 503
    assert ping.json() == {"status": "loading"}
    early = httpx.post(server.url + "/invocations", content=b"1 2 3", headers={"Content-Type": "text/plain"})
    assert early.status_code == 503
    assert "still loading" in early.json()["error"]

    gate.touch()
    server.wait_ready()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        ok = client.post("/invocations", content=b"1 2 3", headers={"Content-Type": "text/plain"})
        assert ok.status_code == 200, ok.text
        assert ok.headers["content-type"] == "application/vnd.test+json"
        assert ok.json() == {"y": [[1.0, 5.5]], "accept": "application/json"}  # default predict_fn ran

        csv = client.post(
            "/invocations", content=b"1 2 3", headers={"Content-Type": "text/plain", "Accept": "text/csv"}
        )
        assert csv.json()["accept"] == "text/csv"  # the user's output_fn decides what Accept means

        bad = client.post("/invocations", content=b"1 x 3", headers={"Content-Type": "text/plain"})
        assert bad.status_code == 400
        assert "input_fn" in bad.json()["error"] and "x" in bad.json()["error"]

        other = client.post("/invocations", json=[[1, 2, 3]])
        assert other.status_code == 400
        assert "wants text/plain" in other.json()["error"]

        xml = client.post("/invocations", content=b"<a/>", headers={"Content-Type": "application/xml"})
        assert xml.status_code == 415  # the hook's own status_code is honoured
        assert xml.json()["error"] == "no XML here"

        boom = client.post("/invocations", content=b"boom", headers={"Content-Type": "text/plain"})
        assert boom.status_code == 500
        assert boom.json()["error"] == "internal error in input_fn: RuntimeError"
        assert client.get("/ping").status_code == 200
    assert "RuntimeError: boom" in server.log()  # with its traceback


def _classifier_model_dir(model_dir: Path) -> Path:
    """A model dir as `training/` writes it: TorchScript returning probabilities + metadata + code."""
    model_dir.mkdir(parents=True)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1))
    metadata = {"classes": ["a", "b", "c"], "feature_names": ["f0", "f1", "f2", "f3"]}
    torch.jit.save(
        torch.jit.script(net), str(model_dir / "model.pt"), _extra_files={"metadata.json": json.dumps(metadata)}
    )
    (model_dir / "code").mkdir()
    shutil.copy(TRAINING_HANDLER, model_dir / "code" / "inference.py")
    return model_dir


def _close(a: object, b: object) -> bool:
    """Equal structure, numbers equal to 1e-5 (batched and single forwards may differ in the last bits)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, abs=1e-5)
    return a == b


def test_loads_the_training_handler_unchanged(tmp_path: Path, start_server) -> None:
    """The model dir the training example writes (model.pt with metadata + code/inference.py), batching on.

    Only the response's "predictions" list (one entry per row) is assumed; the rest is training's.
    """
    server = start_server(_classifier_model_dir(tmp_path / "model"), args=("--max-batch-size", "8"))
    server.wait_ready()
    rows = [[1, 2, 3, 4], [0, 0, 0, 1], [4, 3, 2, 1], [0.5, 0, 0.5, 0]]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        response = client.post("/invocations", json={"instances": rows})
        assert response.status_code == 200, response.text
        together = response.json()["predictions"]
        assert len(together) == 4

        async def one_by_one() -> list[httpx.Response]:  # concurrent: stacked by the micro-batcher
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as aclient:
                return await asyncio.gather(*(aclient.post("/invocations", json=[row]) for row in rows))

        singles = asyncio.run(one_by_one())
        assert [r.status_code for r in singles] == [200] * 4
        assert _close([r.json()["predictions"][0] for r in singles], together)

        named = client.post("/invocations", content=b"f3,f2,f1,f0\n4,3,2,1\n", headers={"Content-Type": "text/csv"})
        assert _close(named.json()["predictions"], together[:1])  # columns reordered by name

        assert client.post("/invocations", json=[[1, 2]]).status_code == 400
        npy = client.post("/invocations", content=b"x", headers={"Content-Type": "application/x-npy"})
        assert npy.status_code == 415
        assert client.post("/invocations", json=rows, headers={"Accept": "text/csv"}).status_code == 406
