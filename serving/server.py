"""Process model: uvicorn (httptools + uvloop), one worker process per core, graceful drain.

One worker runs in-process. Several share one listening socket bound by the parent, which supervises
them (uvicorn's `Multiprocess`: restarts a worker that dies, health-pings them). On SIGTERM/SIGINT the
parent closes its copy of the listening socket and forwards SIGTERM; each worker stops accepting,
finishes its in-flight requests (up to `graceful_timeout_s`, below SageMaker's 30 s), runs its
shutdown, and exits; then the parent exits 0.
"""

from __future__ import annotations

import dataclasses
import logging
import logging.config
import os
import shutil
import signal
import socket
import tempfile
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from serving.config import SETTINGS_ENV, Settings

log = logging.getLogger("serving")


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """httptools protocol that guarantees TCP_NODELAY on every connection.

    uvicorn writes headers and body in two `send`s; with Nagle on, the second waits for the client's
    delayed ACK (~40 ms per keep-alive request). uvloop and asyncio set it today; this makes it a
    property of the server rather than of the event loop in use.
    """

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - socket already closing
                pass
        super().connection_made(transport)


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, closing the parent's listening socket as soon as a drain starts."""

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:  # pragma: no cover
                pass

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()


def log_config(level: str) -> dict[str, Any]:
    """One line per event on stderr; no access log (no per-request logging)."""
    fmt = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": fmt}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "serving": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        loop = "asyncio"
    return uvicorn.Config(
        "serving.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop=loop,
        http=NoDelayHttpToolsProtocol,
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=settings.keepalive_s,
        timeout_graceful_shutdown=settings.graceful_timeout_s,
    )


def run(settings: Settings) -> int:
    """Serve until SIGTERM/SIGINT; the process exit code."""
    metrics_dir = tempfile.mkdtemp(prefix="serving-metrics-")
    settings = dataclasses.replace(settings, metrics_dir=metrics_dir)
    os.environ[SETTINGS_ENV] = settings.to_env()  # inherited by spawned workers
    config = uvicorn_config(settings)
    log.info(
        "serving %s on %s:%d with %d worker(s), %d torch thread(s) each, batching %s",
        settings.model_dir,
        settings.host,
        settings.port,
        settings.workers,
        settings.torch_threads,
        f"up to {settings.max_batch_size} rows / {settings.max_batch_delay_ms} ms" if settings.batching else "off",
    )
    try:
        if settings.workers == 1:
            # uvicorn re-raises the signal that stopped it once it has drained; with these handlers
            # in place that is a no-op and the process exits 0 instead of dying by SIGTERM (143).
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: None)
            server = uvicorn.Server(config)
            server.run()
            return 0 if server.started else STARTUP_FAILURE
        try:
            sock = config.bind_socket()
        except OSError as exc:
            log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
            return 1
        supervisor = Supervisor(config, sockets=[sock])
        supervisor.run()
        failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
        return STARTUP_FAILURE if failed else 0
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
