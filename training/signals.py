"""SIGTERM handling: SageMaker stops a job (or reclaims a spot instance) with SIGTERM, then SIGKILL 120 s later."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any


class StopSignal:
    """While entered, SIGTERM only sets :attr:`received`; the training loop checkpoints and returns.

    The handler does nothing else: logging or I/O from a signal handler can re-enter a stream the
    main thread is writing to.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: Callable[[int, FrameType | None], Any] | int | None = None

    @property
    def requested(self) -> bool:
        return self.received is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else ""

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._previous is not None:  # None: the previous handler was not installed from Python
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
