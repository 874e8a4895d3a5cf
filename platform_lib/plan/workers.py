"""The plan's worker processes: forked from a fork server that imported the program once.

Workers fork from a fork server (`warm_workers`) rather than from the planning process: as fast as forking
it, without inheriting its threads and gRPC state, which crash a forked child's garbage collector once that
process has planned in-process (a library caller, the tests). This module imports only the standard library,
so the CLI can start the fork server's warm-up before it imports anything heavy itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

WARM_MODULE = "platform_lib.plan.warm_workers"


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARM_MODULE])
    return context


def start_warming() -> None:
    """Start the fork server and its warm-up now, on the other core, while this process goes on loading
    (the pool of `pool` then uses it; idempotent)."""
    _context()
    forkserver.ensure_running()


def pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` worker processes forked from the warm fork server."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_fresh_event_loop)


def _fresh_event_loop() -> None:
    """Each worker plans on an event loop of its own."""
    asyncio.set_event_loop(asyncio.new_event_loop())
