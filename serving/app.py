"""The ASGI application: `GET /ping`, `POST /invocations`, `GET /metrics`.

Raw ASGI rather than Starlette routing: the hot path is one string compare, one header scan and one
`send` pair (measured in benchmarks/serving.py). The model loads in a background thread after
start-up, so the port answers at once: /ping is 503 until the model is loaded (and stays 503, with the
reason logged, if loading fails). Handler calls whose recent cost is under `INLINE_MAX_S` run inline
on the event loop (a thread hop costs more than they do); slower ones run in a one-thread executor so
the loop stays free for /ping and for reading other requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from serving import config
from serving.batching import MicroBatcher
from serving.config import Settings
from serving.errors import ModelNotReady, PayloadTooLarge, ServingError
from serving.handler import Handler
from serving.metrics import Metrics

log = logging.getLogger("serving")
INLINE_MAX_S = 0.001
JSON_TYPE = b"application/json"
TEXT_METRICS = b"text/plain; version=0.0.4; charset=utf-8"
PING_READY = b'{"status":"ready"}'
PING_LOADING = b'{"status":"loading"}'


def _json_error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class App:
    """One worker's application: its model, executor, batcher and metrics file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.handler: Handler | None = None
        self.failure: str | None = None
        self.metrics: Metrics | None = None
        self.batcher: MicroBatcher | None = None
        self.executor: ThreadPoolExecutor | None = None
        self._loaded: asyncio.Event | None = None
        self._cost: float | None = None  # moving average of one handler call, seconds
        self._ctypes: dict[str, bytes] = {}

    # -- ASGI entry point ---------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        try:
            if path == "/invocations":
                status, body, ctype = await self._invocations(scope, receive)
            elif path == "/ping":
                status, body, ctype = self._ping(scope)
            elif path == "/metrics":
                status, body, ctype = self._metrics(scope)
            else:
                status, body, ctype = 404, _json_error(f"no route {path}"), JSON_TYPE
        except ServingError as exc:
            status, body, ctype = exc.status, _json_error(exc.message), JSON_TYPE
        except Exception:  # noqa: BLE001 - a bug must not take the worker down
            log.exception("unhandled error on %s", path)
            status, body, ctype = 500, _json_error("internal server error"), JSON_TYPE
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
        if self.metrics is not None:
            self.metrics.count_request(path, status)
            if path == "/invocations":
                self.metrics.observe_latency(time.perf_counter() - started)

    # -- routes --------------------------------------------------------------------------------------------
    def _ping(self, scope: dict[str, Any]) -> tuple[int, bytes, bytes]:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, _json_error("use GET /ping"), JSON_TYPE
        if self.handler is not None:
            return 200, PING_READY, JSON_TYPE
        if self.failure is not None:
            return 503, json.dumps({"status": "failed", "reason": self.failure}).encode(), JSON_TYPE
        return 503, PING_LOADING, JSON_TYPE

    def _metrics(self, scope: dict[str, Any]) -> tuple[int, bytes, bytes]:
        if scope["method"] not in ("GET", "HEAD"):
            return 405, _json_error("use GET /metrics"), JSON_TYPE
        assert self.metrics is not None
        return 200, self.metrics.render(), TEXT_METRICS

    async def _invocations(self, scope: dict[str, Any], receive: Any) -> tuple[int, bytes, bytes]:
        if scope["method"] != "POST":
            return 405, _json_error("use POST /invocations"), JSON_TYPE
        content_type = accept = ""
        length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"content-length":
                length = value
        limit = self.settings.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"request body of {int(length)} bytes exceeds the limit of {limit} bytes")
        handler = self.handler or await self._wait_for_model()
        body = await self._read_body(receive, limit)
        if self.batcher is not None and handler.batchable:  # the batcher counts each forward pass's rows
            out, out_type, _ = await handler.invoke_with(body, content_type, accept, self.batcher.submit)
        else:
            if self._cost is not None and self._cost < INLINE_MAX_S:
                out, out_type, rows = self._timed(handler.invoke, body, content_type, accept)
            else:
                out, out_type, rows = await self._off_loop(self._timed, handler.invoke, body, content_type, accept)
            if rows:
                assert self.metrics is not None
                self.metrics.observe_batch(rows)
        ctype = self._ctypes.get(out_type)
        if ctype is None:
            ctype = out_type.encode("latin-1")
            if len(self._ctypes) < 64:  # bounded: a hook may return arbitrary content types
                self._ctypes[out_type] = ctype
        return 200, out, ctype

    # -- helpers -----------------------------------------------------------------------------------------
    @staticmethod
    async def _read_body(receive: Any, limit: int) -> bytes:
        """The whole request body; 413 as soon as the streamed bytes pass `limit`."""
        message = await receive()
        body = message.get("body", b"")
        if not message.get("more_body", False):
            if len(body) > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
            return body
        chunks, size = [body], len(body)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ServingError("client disconnected", 499)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _timed(self, fn: Any, *args: Any) -> Any:
        """Call `fn`, folding its duration into the moving average that picks inline vs. thread."""
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            elapsed = time.perf_counter() - started
            self._cost = elapsed if self._cost is None else 0.8 * self._cost + 0.2 * elapsed

    async def _off_loop(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _wait_for_model(self) -> Handler:
        if self.failure is None and self._loaded is not None:
            try:
                async with asyncio.timeout(self.settings.model_wait_s):
                    await self._loaded.wait()
            except TimeoutError:
                raise ModelNotReady("the model is still loading") from None
        if self.handler is None:
            raise ModelNotReady(f"the model failed to load: {self.failure}")
        return self.handler

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self._startup()
                except Exception as exc:  # noqa: BLE001 - reported to uvicorn, which exits
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _startup(self) -> None:
        s = self.settings
        self.metrics = Metrics(s.metrics_dir or os.path.join("/tmp", f"serving-metrics-{os.getpid()}"))
        self.metrics.set_model_loaded(False)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        if s.batching:
            self.batcher = MicroBatcher(
                self._predict,
                self.executor,
                max_rows=s.max_batch_size,
                max_delay_s=s.max_batch_delay_ms / 1000.0,
                observe_batch=self.metrics.observe_batch,
            )
            self.batcher.start()
        self._loaded = asyncio.Event()
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._load, args=(loop,), name="model-loader", daemon=True).start()

    def _predict(self, data: Any) -> Any:
        assert self.handler is not None
        return self.handler.predict(data)

    def _load(self, loop: asyncio.AbstractEventLoop) -> None:
        """Loader thread: set torch's threads, import the hooks, run model_fn."""
        import torch

        s = self.settings
        try:
            torch.set_num_threads(s.torch_threads)
            handler = Handler.load(s.model_dir, s.program)
            error = None
        except BaseException as exc:  # noqa: BLE001 - any failure keeps the server up with /ping 503
            handler, error = None, f"{type(exc).__name__}: {exc}"
            log.error("model failed to load from %s: %s", s.model_dir, error, exc_info=exc)
        loop.call_soon_threadsafe(self._loaded_done, handler, error)

    def _loaded_done(self, handler: Handler | None, error: str | None) -> None:
        self.handler, self.failure = handler, error
        if self.metrics is not None:
            self.metrics.set_model_loaded(handler is not None)
        assert self._loaded is not None
        self._loaded.set()

    async def _shutdown(self) -> None:
        if self.batcher is not None:
            await self.batcher.close()
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.metrics is not None:
            self.metrics.set_model_loaded(False)
            self.metrics.close()


def create_app() -> App:
    """uvicorn factory (`serving.app:create_app`): settings come from the parent via the environment."""
    return App(config.from_environment())
