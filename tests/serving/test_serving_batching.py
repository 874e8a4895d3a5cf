"""Micro-batching: the batcher in-process, then a real server whose predict_fn reports its batch size."""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
import torch

from serving.batching import MicroBatcher, batchable, split
from serving.errors import BadRequest

BATCH_REPORTING_HOOKS = """
    import torch


    def model_fn(model_dir):
        return "no model needed"


    def predict_fn(data, model):
        if (data < 0).any():
            raise ValueError("negative features")
        n = float(data.shape[0])
        return torch.stack([data.sum(dim=1), torch.full((data.shape[0],), n)], dim=1)
"""


def run_batcher(inputs: list, predict, max_rows: int = 4, max_delay_s: float = 30.0) -> tuple[list, list[int]]:  # noqa: ANN001
    """Submit all inputs concurrently; returns each one's result (or exception) and the batch sizes."""
    observed: list[int] = []

    async def main() -> list:
        with ThreadPoolExecutor(1) as pool:
            batcher = MicroBatcher(predict, pool, max_rows, max_delay_s, observed.append)
            batcher.start()
            try:
                return await asyncio.gather(*(batcher.submit(x) for x in inputs), return_exceptions=True)
            finally:
                await batcher.close()

    return asyncio.run(main()), observed


def test_a_full_batch_runs_at_once_and_is_split_back_per_request() -> None:
    calls: list[int] = []

    def predict(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return x * 10

    inputs = [torch.tensor([[1.0], [2.0]]), torch.tensor([[3.0]]), torch.tensor([[4.0]])]
    results, observed = run_batcher(inputs, predict)  # 4 rows == max_rows: no waiting for the 30 s delay
    assert calls == [4]
    assert observed == [4]
    assert [r.tolist() for r in results] == [[[10.0], [20.0]], [[30.0]], [[40.0]]]


def test_the_delay_closes_a_partial_batch() -> None:
    results, observed = run_batcher([np.ones((1, 2)), np.ones((1, 2))], lambda x: x + 1, max_rows=8, max_delay_s=0.05)
    assert observed == [2]
    assert [r.tolist() for r in results] == [[[2.0, 2.0]], [[2.0, 2.0]]]


def test_incompatible_shapes_go_to_separate_batches() -> None:
    calls: list[tuple[int, ...]] = []

    def predict(x: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(x.shape))
        return x.sum(dim=1)

    inputs = [torch.ones(1, 3), torch.ones(1, 2), torch.ones(2, 3)]
    results, _ = run_batcher(inputs, predict, max_rows=8, max_delay_s=0.05)
    assert sorted(calls) == [(1, 2), (3, 3)]
    assert [r.tolist() for r in results] == [[3.0], [2.0], [3.0, 3.0]]


def test_one_bad_input_does_not_fail_its_neighbours() -> None:
    def predict(x: torch.Tensor) -> torch.Tensor:
        if (x < 0).any():
            raise BadRequest("negative")
        return x

    inputs = [torch.ones(1, 2), -torch.ones(1, 2), 2 * torch.ones(1, 2), 3 * torch.ones(1, 2)]
    results, observed = run_batcher(inputs, predict)
    assert isinstance(results[1], BadRequest)
    assert [results[i].tolist() for i in (0, 2, 3)] == [[[1.0, 1.0]], [[2.0, 2.0]], [[3.0, 3.0]]]
    assert observed == [1, 1, 1, 1]  # the failed batch was retried one input at a time


def test_inputs_that_cannot_be_stacked_are_predicted_alone() -> None:
    calls: list[object] = []

    def predict(x: object) -> object:
        calls.append(x)
        return {"echo": x}

    results, observed = run_batcher([{"a": 1}, [[1.0, 2.0]]], predict)
    assert results == [{"echo": {"a": 1}}, {"echo": [[1.0, 2.0]]}]
    assert calls == [{"a": 1}, [[1.0, 2.0]]] and observed == [1, 1]


def test_the_handler_runs_one_request_path_with_the_batcher() -> None:
    """Handler.invoke_with (the only request path) with the batcher as its predict: decode, batch, encode."""
    from serving.handler import Handler, Hooks

    handler = Handler(Hooks(predict_fn=lambda x, model: x * model), model=10)

    async def main() -> list:
        with ThreadPoolExecutor(1) as pool:
            batcher = MicroBatcher(handler.predict, pool, 4, 30.0)
            batcher.start()
            try:
                return await asyncio.gather(
                    handler.invoke_with(b"[[1, 2]]", "application/json", "", batcher.submit),
                    handler.invoke_with(b"3,4\n5,6\n", "text/csv", "text/csv", batcher.submit),
                    handler.invoke_with(b"[[7, 8]]", "application/json", "", batcher.submit),
                )
            finally:
                await batcher.close()

    assert asyncio.run(main()) == [(b"[[10.0,20.0]]", "application/json", 1),
                                   (b"30.0,40.0\n50.0,60.0\n", "text/csv", 2),
                                   (b"[[70.0,80.0]]", "application/json", 1)]


def test_split_rejects_outputs_without_matching_rows() -> None:
    assert [p.tolist() for p in split(torch.arange(3), [2, 1])] == [[0, 1], [2]]
    with pytest.raises(ValueError):
        split({"probabilities": torch.ones(3, 2)}, [2, 1])
    with pytest.raises(ValueError):
        split(torch.ones(2, 2), [2, 1])
    assert batchable(torch.ones(2, 3)) and batchable(np.ones(1))
    assert not batchable(torch.tensor(1.0)) and not batchable([[1.0]]) and not batchable(torch.ones(0, 3))


@pytest.mark.slow
def test_a_real_server_batches_concurrent_requests(kit: SimpleNamespace, tmp_path: Path, start_server) -> None:
    model_dir = tmp_path / "model"
    kit.write_code(model_dir, BATCH_REPORTING_HOOKS)
    # A batch closes only when full (4 rows): the 30 s delay is never reached in this test.
    server = start_server(model_dir, args=("--max-batch-size", "4", "--max-batch-delay-ms", "30000"))
    server.wait_ready()

    async def post_all(bodies: list[list[list[float]]]) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            return await asyncio.gather(*(client.post("/invocations", json=b) for b in bodies))

    # 2 + 1 + 1 rows from three concurrent requests -> one forward pass of 4 rows.
    first = asyncio.run(post_all([[[1, 1], [2, 2]], [[3, 3]], [[4, 4]]]))
    assert [r.status_code for r in first] == [200, 200, 200]
    assert [r.json() for r in first] == [[[2.0, 4.0], [4.0, 4.0]], [[6.0, 4.0]], [[8.0, 4.0]]]

    # A bad request in a full batch gets its 400; its neighbours are answered one by one.
    second = asyncio.run(post_all([[[1, 1]], [[-1, 1]], [[2, 2]], [[3, 3]]]))
    assert [r.status_code for r in second] == [200, 400, 200, 200]
    assert "negative features" in second[1].json()["error"]
    assert [second[i].json() for i in (0, 2, 3)] == [[[2.0, 1.0]], [[4.0, 1.0]], [[6.0, 1.0]]]

    metrics = httpx.get(server.url + "/metrics").text

    def value(name: str) -> float:
        return float(re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE).group(1))

    assert value('serving_batch_size_bucket{le="2"}') == 4  # the four inputs retried alone
    assert value('serving_batch_size_bucket{le="4"}') == 5  # ... plus the one batch of 4
    assert value("serving_batch_size_sum") == 8


def test_batching_runs_off_the_event_loop() -> None:
    """The forward runs in the executor thread, not on the loop's thread."""
    threads: list[str] = []

    def predict(x: torch.Tensor) -> torch.Tensor:
        threads.append(threading.current_thread().name)
        return x

    run_batcher([torch.ones(1, 1)] * 4, predict)
    assert threads and all(name != threading.main_thread().name for name in threads)
