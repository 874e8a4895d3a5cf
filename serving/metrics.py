"""Prometheus metrics shared by all worker processes, without a dependency.

Each worker owns one small file of float64 slots in a directory that the parent creates, mapped into
memory (`mmap`); an update is one in-place add (~0.1 µs, no lock: only the worker's event-loop thread
writes its file). `GET /metrics`, on whichever worker it lands, reads every worker's file and sums
them, so counters and histograms are aggregated across workers, and keeps counting what workers that
have since died had recorded. Gauges are only taken from live workers.
"""

from __future__ import annotations

import mmap
import os
from array import array
from bisect import bisect_left
from pathlib import Path

PATHS = ("/invocations", "/ping", "/metrics", "other")
_PATH_INDEX = {p: i for i, p in enumerate(PATHS)}
STATUS_MIN, STATUS_MAX = 100, 599
N_STATUS = STATUS_MAX - STATUS_MIN + 1
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)

# Slot layout of a worker file.
PID, MODEL_LOADED = 0, 1
REQUESTS = 2
LATENCY = REQUESTS + len(PATHS) * N_STATUS  # buckets (+Inf last), then sum, then count
BATCH = LATENCY + len(LATENCY_BUCKETS) + 3
N_SLOTS = BATCH + len(BATCH_BUCKETS) + 3
FILE_BYTES = N_SLOTS * 8


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


class Metrics:
    """This worker's slots (writer) plus the reader that renders all workers' slots."""

    def __init__(self, directory: str | os.PathLike[str], pid: int | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pid = os.getpid() if pid is None else pid
        self.path = self.directory / f"worker-{self.pid}.metrics"
        with open(self.path, "wb") as f:
            f.truncate(FILE_BYTES)
        self._file = open(self.path, "r+b")  # noqa: SIM115 - kept open for the map's lifetime
        self._map = mmap.mmap(self._file.fileno(), FILE_BYTES)
        self._slots = memoryview(self._map).cast("d")
        self._slots[PID] = float(self.pid)

    def close(self) -> None:
        self._slots.release()
        self._map.close()
        self._file.close()

    # -- writers (event-loop thread) ------------------------------------------------------------------
    def set_model_loaded(self, loaded: bool) -> None:
        self._slots[MODEL_LOADED] = 1.0 if loaded else 0.0

    def count_request(self, path: str, status: int) -> None:
        p = _PATH_INDEX.get(path, 3)
        s = status - STATUS_MIN if STATUS_MIN <= status <= STATUS_MAX else 500 - STATUS_MIN
        self._slots[REQUESTS + p * N_STATUS + s] += 1.0

    def observe_latency(self, seconds: float) -> None:
        slots = self._slots
        slots[LATENCY + bisect_left(LATENCY_BUCKETS, seconds)] += 1.0
        slots[LATENCY + len(LATENCY_BUCKETS) + 1] += seconds
        slots[LATENCY + len(LATENCY_BUCKETS) + 2] += 1.0

    def observe_batch(self, rows: int) -> None:
        slots = self._slots
        slots[BATCH + bisect_left(BATCH_BUCKETS, rows)] += 1.0
        slots[BATCH + len(BATCH_BUCKETS) + 1] += rows
        slots[BATCH + len(BATCH_BUCKETS) + 2] += 1.0

    # -- reader ------------------------------------------------------------------------------------------
    def render(self) -> bytes:
        """Prometheus text exposition (format 0.0.4) of all workers' slots."""
        return render(self.directory)


def _read_all(directory: Path) -> list[array]:
    workers = []
    for path in sorted(directory.glob("worker-*.metrics")):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # pragma: no cover - removed between glob and read
            continue
        if len(data) != FILE_BYTES:
            continue
        slots = array("d")
        slots.frombytes(data)
        workers.append(slots)
    return workers


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _histogram(lines: list[str], name: str, help_: str, buckets: tuple[float, ...], totals: list[float]) -> None:
    lines += [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
    cumulative = 0.0
    for bound, count in zip((*buckets, float("inf")), totals[: len(buckets) + 1], strict=True):
        cumulative += count
        le = "+Inf" if bound == float("inf") else _num(bound)
        lines.append(f'{name}_bucket{{le="{le}"}} {_num(cumulative)}')
    lines.append(f"{name}_sum {_num(totals[-2])}")
    lines.append(f"{name}_count {_num(totals[-1])}")


def render(directory: str | os.PathLike[str]) -> bytes:
    workers = _read_all(Path(directory))
    total = [0.0] * N_SLOTS
    for slots in workers:
        for i in range(REQUESTS, N_SLOTS):
            total[i] += slots[i]
    live = [s for s in workers if _alive(int(s[PID]))]
    lines = [
        "# HELP serving_requests_total HTTP requests answered, by path and status code.",
        "# TYPE serving_requests_total counter",
    ]
    for p, path in enumerate(PATHS):
        base = REQUESTS + p * N_STATUS
        for s in range(N_STATUS):
            if total[base + s]:
                lines.append(
                    f'serving_requests_total{{path="{path}",status="{s + STATUS_MIN}"}} {_num(total[base + s])}'
                )
    n_lat = len(LATENCY_BUCKETS) + 3
    _histogram(
        lines,
        "serving_request_duration_seconds",
        "Time to answer POST /invocations, from request start to response sent.",
        LATENCY_BUCKETS,
        total[LATENCY : LATENCY + n_lat],
    )
    _histogram(
        lines,
        "serving_batch_size",
        "Rows per forward pass (predict_fn call).",
        BATCH_BUCKETS,
        total[BATCH : BATCH + len(BATCH_BUCKETS) + 3],
    )
    loaded = 1 if live and all(s[MODEL_LOADED] == 1.0 for s in live) else 0
    lines += [
        "# HELP serving_model_loaded 1 when every live worker has its model loaded, else 0.",
        "# TYPE serving_model_loaded gauge",
        f"serving_model_loaded {loaded}",
        "# HELP serving_workers Live worker processes; serving_workers_ready those with the model loaded.",
        "# TYPE serving_workers gauge",
        f"serving_workers {len(live)}",
        "# TYPE serving_workers_ready gauge",
        f"serving_workers_ready {sum(1 for s in live if s[MODEL_LOADED] == 1.0)}",
    ]
    return ("\n".join(lines) + "\n").encode()
