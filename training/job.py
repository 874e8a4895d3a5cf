"""Run user code's ``main`` the way the runtime reports failures: logging, SIGTERM, ``output/failure``.

An entry point that uses this gets the runtime's exit codes: 0 when ``main`` returns (trained, or
stopped by SIGTERM after checkpointing), 1 with the error's one-paragraph reason in ``output/failure``
when ``main`` raises a :class:`~training.errors.TrainingError` (bad hyperparameters, data, checkpoint),
2 with ``Unexpected error: ...`` there and the traceback on stderr for anything else::

    from training import job

    def main(stop):            # stop.requested turns true on SIGTERM: checkpoint and return
        ...

    if __name__ == "__main__":
        raise SystemExit(job.run(main))
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable

from training import contract
from training.errors import EXIT_BUG, EXIT_INVALID, EXIT_OK, TrainingError, write_failure
from training.signals import StopSignal

log = logging.getLogger("training")


def configure_logging() -> None:
    """``<time> <LEVEL> <message>`` lines on stdout for the ``training`` logger (CloudWatch reads stdout)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def unexpected(exc: BaseException) -> str:
    """The failure reason of a bug: type and message on one line."""
    return " ".join(f"Unexpected error: {type(exc).__name__}: {exc}".split())


def run(main: Callable[[StopSignal], object]) -> int:
    """Call ``main(stop)`` with SIGTERM caught; turn its failure into ``output/failure`` and an exit code."""
    configure_logging()
    with StopSignal() as stop:
        try:
            main(stop)
        except TrainingError as exc:
            reason, code = exc.reason(), EXIT_INVALID
        except Exception as exc:  # noqa: BLE001 - last line of defence: always leave a reason behind
            traceback.print_exc()
            reason, code = unexpected(exc), EXIT_BUG
        else:
            return EXIT_OK
    log.error(reason)
    write_failure(contract.failure_file(os.environ), reason)
    return code
