"""Dynamic micro-batching: concurrent requests share one forward pass.

Requests queue their decoded input (a tensor or array, rows first). A batch closes when it holds
`max_rows` rows or when its oldest request has waited `max_delay_s`; inputs that cannot be stacked
with it (other trailing shape, dtype, device or type) wait for the next one. The batch is
concatenated, run through `predict` in the executor thread (the event loop keeps serving), and the
output split back by row counts. If the batched call fails, or its output cannot be split, each input
is retried alone, so one bad request never fails its neighbours. Inputs that cannot be batched at all
(not a tensor or array with rows, e.g. a dict from a custom input_fn) are predicted alone in the same
thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

log = logging.getLogger("serving")


def batchable(data: Any) -> bool:
    """Inputs the batcher can stack: tensors and arrays with a leading row dimension."""
    return isinstance(data, torch.Tensor | np.ndarray) and data.ndim >= 1 and data.shape[0] > 0


def rows_of(data: Any) -> int:
    """Leading dimension of a decoded input (1 for inputs without a shape)."""
    shape = getattr(data, "shape", None)
    try:
        return int(shape[0]) if shape else 1
    except (TypeError, IndexError):
        return 1


def _key(data: Any) -> tuple[Any, ...]:
    device = data.device if isinstance(data, torch.Tensor) else None
    return type(data), tuple(data.shape[1:]), data.dtype, device


def _concat(parts: list[Any]) -> Any:
    return torch.cat(parts) if isinstance(parts[0], torch.Tensor) else np.concatenate(parts)


def split(output: Any, sizes: list[int]) -> list[Any]:
    """Split a batched prediction into per-request parts; ValueError if it has no matching rows."""
    total = sum(sizes)
    if isinstance(output, torch.Tensor | np.ndarray) and output.ndim >= 1 and output.shape[0] == total:
        pass
    elif isinstance(output, list | tuple) and len(output) == total:
        output = list(output)
    else:
        raise ValueError(f"prediction of type {type(output).__name__} has no leading dimension of {total} rows")
    parts, start = [], 0
    for n in sizes:
        parts.append(output[start : start + n])
        start += n
    return parts


@dataclass(slots=True)
class _Item:
    data: Any
    rows: int
    key: tuple[Any, ...]
    future: asyncio.Future[Any]
    queued_at: float


class MicroBatcher:
    """Gathers inputs from concurrent requests and runs them as batches; one batch at a time."""

    def __init__(
        self,
        predict: Callable[[Any], Any],
        executor: Executor,
        max_rows: int,
        max_delay_s: float,
        observe_batch: Callable[[int], None] = lambda rows: None,
    ) -> None:
        self.predict = predict
        self.executor = executor
        self.max_rows = max_rows
        self.max_delay_s = max_delay_s
        self.observe_batch = observe_batch
        self._queue: deque[_Item] = deque()
        self._queued_rows = 0
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._warned = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="micro-batcher")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for item in self._queue:
            if not item.future.done():
                item.future.set_exception(RuntimeError("server shutting down"))
        self._queue.clear()

    async def submit(self, data: Any) -> Any:
        """Queue one request's input (rows first) and wait for its rows of the batched prediction."""
        loop = asyncio.get_running_loop()
        if not batchable(data):
            prediction = await loop.run_in_executor(self.executor, self.predict, data)
            self.observe_batch(rows_of(data))
            return prediction
        item = _Item(data, int(data.shape[0]), _key(data), loop.create_future(), time.monotonic())
        self._queue.append(item)
        self._queued_rows += item.rows
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return await item.future

    async def _wait(self, timeout: float | None) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            if timeout is None:
                await self._waiter
            else:
                async with asyncio.timeout(timeout):
                    await self._waiter
        except TimeoutError:
            pass
        finally:
            self._waiter = None

    def _take(self) -> list[_Item]:
        first = self._queue.popleft()
        batch, rows, kept = [first], first.rows, deque()
        while self._queue:
            item = self._queue.popleft()
            if item.key == first.key and rows + item.rows <= self.max_rows:
                batch.append(item)
                rows += item.rows
            else:
                kept.append(item)
        self._queue = kept
        self._queued_rows -= rows
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._queue:
                await self._wait(None)
            deadline = self._queue[0].queued_at + self.max_delay_s
            while self._queued_rows < self.max_rows:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await self._wait(remaining)
            batch = self._take()
            try:
                results, forwards = await loop.run_in_executor(self.executor, self._forward, [i.data for i in batch])
            except Exception as exc:  # noqa: BLE001 - never let the batcher die
                results, forwards = [exc] * len(batch), []
            for rows in forwards:
                self.observe_batch(rows)
            for item, result in zip(batch, results, strict=True):
                if item.future.done():
                    continue
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def _forward(self, inputs: list[Any]) -> tuple[list[Any], list[int]]:
        """Executor thread: one forward for the batch; alone per input if that fails."""
        sizes = [int(x.shape[0]) for x in inputs]
        if len(inputs) > 1:
            try:
                return split(self.predict(_concat(inputs)), sizes), [sum(sizes)]
            except Exception as exc:  # noqa: BLE001 - fall back to one forward per input
                if not self._warned:
                    log.warning("batched predict failed (%s); running inputs one by one", exc)
                    self._warned = True
        results: list[Any] = []
        for x in inputs:
            try:
                results.append(self.predict(x))
            except Exception as exc:  # noqa: BLE001 - handed to that request
                results.append(exc)
        return results, sizes
