"""Imported once by the plan workers' fork server: the program, the policy pack and their provider modules,
so that every worker forked from it starts warm (see `workers`)."""

import gc
import os
import threading


def _exit_with_parent(stop: threading.Event) -> None:
    """`mlp plan` starts the fork server before it knows it will plan (`workers.start_warming`). If `mlp`
    exits meanwhile (a usage error), stop warming at once. This process holds `mlp`'s stdout and stderr
    open, so whatever reads them through a pipe would otherwise wait for the whole warm-up."""
    parent = os.getppid()
    while not stop.wait(0.05):
        if os.getppid() != parent:
            os._exit(0)


_stop = threading.Event()
_watcher = threading.Thread(target=_exit_with_parent, args=(_stop,), daemon=True)
_watcher.start()
# Python's recipe for a process that forks without exec (see `gc.freeze`): no collections while the
# imports build ~400k objects that live as long as the workers, then those objects are left out of every
# later collection in the workers (and their memory pages stay shared).
gc.disable()
from platform_lib.plan.runner import warm_up  # noqa: E402

warm_up()
gc.freeze()
gc.enable()
_stop.set()
_watcher.join()  # no thread left when the server forks the workers
