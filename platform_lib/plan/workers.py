"""The plan's worker processes: forked from a fork server that imported the program once.

Workers fork from a fork server (`warm_workers`) rather than from the planning process: as fast as forking
it, without inheriting its threads and gRPC state, which crash a forked child's garbage collector once that
process has planned in-process (a library caller, the tests). This module imports only the standard library,
so the CLI can start the fork server's warm-up before it imports anything heavy itself.
"""

from __future__ import annotations

import asyncio
import gc
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
    return ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_start_worker)


def _start_worker() -> None:
    """Each worker plans on an event loop of its own, with full garbage collections 10× rarer: a plan
    keeps nearly everything it builds until its stack is done, so a full collection finds little garbage
    to free, yet re-scans the whole plan each time (half of a worker's collection time at the default)."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
