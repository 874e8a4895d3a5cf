"""Serving benchmark: the bare handler (floor) vs. `serve` vs. TorchServe 0.12, and micro-batching.

Not a test. One run, one machine, loopback only, bounded durations:

  (a) floor: input_fn -> predict_fn -> output_fn in-process on one JSON body, timed per call;
  (b) our server (`serve`, one worker per core) and, for reference, the same handler behind
      Starlette routing (why serving/ uses raw ASGI);
  (c) TorchServe 0.12 from its own venv (benchmarks/.venv-torchserve, created if absent) serving
      the same TorchScript file with an equivalent handler (benchmarks/serving_ts_handler.py);
  (d) a wide MLP whose batch-1 forward takes milliseconds: `serve` without and with micro-batching.

Load comes from `wrk` (Debian: `apt-get install -y wrk`) with a Lua script for the POST body, at
concurrency 1, 8 and 32, `--duration` seconds each after a warm-up. Reported: requests/s, p50 and p99
(`wrk --latency`), peak RSS of each server's process tree, ratios against TorchServe and the floor.

    .venv/bin/python benchmarks/serving.py [--duration 10] [--skip-torchserve] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
# Run as a script, this file's directory comes first on sys.path and this file (serving.py) would
# shadow the `serving` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

import torch  # noqa: E402

TS_VENV = BENCH / ".venv-torchserve"
TS_PACKAGES = ["torchserve==0.12.0", "torch-model-archiver==0.12.0", "pyyaml", "torch==2.13.0"]
SERVE = Path(sys.executable).parent / "serve"
CORES = len(os.sched_getaffinity(0))
WRK_HELP = "wrk is not installed: `apt-get update && apt-get install -y wrk` (Debian/Ubuntu), then re-run."


# -- models ----------------------------------------------------------------------------------------------
def mlp(n_in: int, width: int, depth: int, n_out: int) -> torch.nn.Module:
    layers: list[torch.nn.Module] = [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers).eval()


def save_model(directory: Path, module: torch.nn.Module, n_in: int) -> tuple[Path, bytes]:
    """TorchScript model dir + a one-row JSON request body for it."""
    directory.mkdir(parents=True)
    torch.jit.script(module).save(str(directory / "model.pt"))
    row = [round(((i * 37) % 100) / 100.0, 2) for i in range(n_in)]
    return directory, json.dumps([row]).encode()


def forward_ms(model_dir: Path, n_in: int, batch: int) -> float:
    """Median forward time of the TorchScript model at a batch size, one torch thread."""
    torch.set_num_threads(1)
    model = torch.jit.load(str(model_dir / "model.pt"))
    x = torch.rand(batch, n_in)
    times = []
    with torch.inference_mode():
        for i in range(25):
            t = time.perf_counter()
            model(x)
            if i >= 5:
                times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


# -- (a) floor -------------------------------------------------------------------------------------------
def floor(model_dir: Path, body: bytes, calls: int = 20000) -> dict[str, float]:
    """The handler alone: input_fn -> predict_fn -> output_fn per call, in this process, one thread."""
    from serving.handler import Handler

    torch.set_num_threads(1)
    handler = Handler.load(str(model_dir))
    for _ in range(500):
        handler.invoke(body, "application/json", "")
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        handler.invoke(body, "application/json", "")
        times.append(time.perf_counter() - t)
    times.sort()
    mean = sum(times) / len(times)
    return {
        "rps": 1.0 / mean,
        "p50_ms": times[len(times) // 2] * 1000,
        "p99_ms": times[int(len(times) * 0.99)] * 1000,
        "mean_ms": mean * 1000,
    }


# -- processes ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree(root: int) -> list[int]:
    tree, pids, stack = _children(), [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(tree.get(pid, []))
    return pids


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    total = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree_cpu_ticks(root: int) -> int:
    """utime + stime of a process tree (live processes), clock ticks."""
    total = 0
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def machine_busy_ticks() -> int:
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + irq + softirq + steal


class Sampler:
    """While a load runs: peak RSS of the server's process tree, and how many cores *other* processes
    (not the server, not wrk, not this script) kept busy: the run's background noise."""

    def __init__(self, root: int) -> None:
        self.root, self.peak, self.background_cores = root, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.root))
            self._stop.wait(0.5)

    def __enter__(self) -> Sampler:
        self._t0 = time.monotonic()
        self._busy0, self._tree0 = machine_busy_ticks(), tree_cpu_ticks(self.root)
        self._self0, self._kids0 = _rusage_ticks(resource.RUSAGE_SELF), _rusage_ticks(resource.RUSAGE_CHILDREN)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        ours = (
            (tree_cpu_ticks(self.root) - self._tree0)
            + (_rusage_ticks(resource.RUSAGE_SELF) - self._self0)
            + (_rusage_ticks(resource.RUSAGE_CHILDREN) - self._kids0)  # wrk, once it has been waited for
        )
        other = machine_busy_ticks() - self._busy0 - ours
        self.background_cores = max(0.0, other / HZ / (time.monotonic() - self._t0))


HZ = os.sysconf("SC_CLK_TCK")


def _rusage_ticks(who: int) -> float:
    usage = resource.getrusage(who)
    return (usage.ru_utime + usage.ru_stime) * HZ


def wait_http(url: str, timeout: float, method: str = "GET", body: bytes | None = None, proc=None) -> None:  # noqa: ANN001
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} while starting")
        try:
            req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s")


def stop_tree(proc: subprocess.Popen, group: bool = False) -> None:
    """SIGTERM the process we started (or its own process group), then SIGKILL that group."""
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


@contextmanager
def our_server(model_dir: Path, log: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    cmd = [str(SERVE), "serve", "--model-dir", str(model_dir), "--host", "127.0.0.1", "--port", str(port)]
    with _running(cmd, port, log, {**os.environ, "SERVING_LOG_LEVEL": "warning", **env}) as server:
        yield server


@contextmanager
def starlette_server(model_dir: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH), "--factory", "serving_starlette_app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(CORES), "--loop", "uvloop",
        "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with _running(cmd, port, log, {**os.environ, "BENCH_MODEL_DIR": str(model_dir)}) as server:
        yield server


@contextmanager
def _running(cmd: list[str], port: int, log: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start a server process tree, wait until /ping answers, stop the whole tree afterwards."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", 120, proc=proc)
        yield f"http://127.0.0.1:{port}/invocations", proc
    finally:
        stop_tree(proc)


def ensure_torchserve_venv() -> Path:
    """benchmarks/.venv-torchserve with TorchServe 0.12 (torch from /opt/wheels when present)."""
    python = TS_VENV / "bin" / "python"
    if (TS_VENV / "bin" / "torchserve").exists():
        return TS_VENV
    TS_VENV.mkdir(parents=True, exist_ok=True)
    (TS_VENV / ".gitignore").write_text("*\n")  # before anything else lands in the tree
    subprocess.run([sys.executable, "-m", "venv", str(TS_VENV)], check=True)
    find_links = ["--find-links", "/opt/wheels"] if Path("/opt/wheels").is_dir() else []
    print(f"installing {' '.join(TS_PACKAGES)} into {TS_VENV} ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *find_links, *TS_PACKAGES], check=True)
    return TS_VENV


@contextmanager
def torchserve(
    model_dir: Path, work: Path, log: Path, quiet_logs: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """TorchServe serving the same model.pt; `quiet_logs` replaces its default DEBUG-level, per-request
    file logging (ts_log, access and metrics logs) with warnings only, as one would in production."""
    if shutil.which("java") is None:
        raise RuntimeError("TorchServe needs Java 11+ (`apt-get install -y openjdk-17-jre-headless`)")
    venv = ensure_torchserve_venv()
    store = work / "model-store"
    store.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(venv / "bin" / "torch-model-archiver"), "--model-name", "model", "--version", "1.0",
            "--serialized-file", str(model_dir / "model.pt"), "--handler", str(BENCH / "serving_ts_handler.py"),
            "--export-path", str(store), "--force",
        ],
        check=True,
    )  # fmt: skip
    port, management, metrics = free_port(), free_port(), free_port()
    config = work / "config.properties"
    config.write_text(
        "\n".join(
            [
                f"inference_address=http://127.0.0.1:{port}",
                f"management_address=http://127.0.0.1:{management}",
                f"metrics_address=http://127.0.0.1:{metrics}",
                f"model_store={store}",
                "load_models=model.mar",
                f"default_workers_per_model={CORES}",  # one Python worker per core, like `serve`
                "disable_token_authorization=true",
                "async_logging=true",  # TorchServe's documented throughput setting
                "install_py_dep_per_model=false",
            ]
        )
        + "\n"
    )
    log_config = work / "log4j2.xml"
    log_config.write_text(QUIET_LOG4J)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "OMP_NUM_THREADS": "1",  # one torch thread per worker, as `serve` uses on this box
        "LOG_LOCATION": str(work / "logs"),
        "METRICS_LOCATION": str(work / "logs"),
    }
    cmd = [str(venv / "bin" / "torchserve"), "--start", "--foreground", "--ncs", "--ts-config", str(config),
           "--model-store", str(store), "--disable-token-auth"]  # fmt: skip
    if quiet_logs:
        cmd += ["--log-config", str(log_config)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work, start_new_session=True)
    url = f"http://127.0.0.1:{port}/predictions/model"
    try:
        body = json.dumps([[0.0] * 16]).encode()
        wait_http(url, 240, method="POST", body=body, proc=proc)
        yield url, proc
    finally:
        stop_tree(proc, group=True)  # the launcher does not forward SIGTERM to Java and its workers


QUIET_LOG4J = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT"><PatternLayout pattern="%d{ISO8601} [%-5p] %t %c - %m%n"/></Console>
  </Appenders>
  <Loggers>
    <Logger name="io.netty" level="error"/>
    <Logger name="org.apache" level="off"/>
    <Root level="warn"><AppenderRef ref="STDOUT"/></Root>
  </Loggers>
</Configuration>
"""


# -- load ----------------------------------------------------------------------------------------------------
def lua_script(directory: Path, body: bytes) -> Path:
    path = directory / f"post-{len(body)}.lua"
    text = body.decode()
    assert "]=]" not in text
    path.write_text(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [=[{text}]=]\n')
    return path


def _match(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    found = re.search(pattern, text, flags)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in the output: {text[:500]!r}")
    return found


def _ms(value: str) -> float:
    number, unit = _match(r"^([\d.]+)(us|ms|s|m)$", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, script: Path, connections: int, duration: float, root: int) -> dict[str, float]:
    """One wrk run (one thread: the server gets the other core's share); RSS sampled meanwhile."""
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    with Sampler(root) as sampler:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result = {
        "rps": float(_match(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(_match(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),
        "p99_ms": _ms(_match(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),
        "rss_mb": sampler.peak,
        "background_cores": sampler.background_cores,
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result["errors"] = float(errors.group(1)) if errors else 0.0
    if socket_errors:
        result["socket_errors"] = socket_errors.group(1)  # type: ignore[assignment]
    return result


def load(
    name: str, url: str, proc: subprocess.Popen, script: Path, levels: list[int], duration: float, warmup: float
) -> dict:
    wrk(url, script, 8, warmup, proc.pid)  # warm-up: the JVM's JIT, TorchScript's profiling runs, caches
    results = {}
    for c in levels:
        r = wrk(url, script, c, duration, proc.pid)
        results[c] = r
        print(f"  {name:<26} c={c:<3} {r['rps']:>8.0f} req/s  p50 {r['p50_ms']:7.3f} ms  p99 {r['p99_ms']:7.3f} ms"
              f"  rss {r['rss_mb']:6.0f} MiB  errors {r['errors']:.0f}"
              f"  background {r['background_cores']:.2f} cores", flush=True)  # fmt: skip
    return results


# -- report ---------------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())  # fmt: skip
    mem = Path("/proc/meminfo").read_text().split()[1]
    return {
        "cpu": f"{cpu}, {CORES} cores",
        "memory": f"{int(mem) / 1024 / 1024:.0f} GiB",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def markdown(res: dict) -> str:
    fl = res["floor"]
    lines = [
        "| system | concurrency | req/s | p50 ms | p99 ms | peak RSS MiB | background cores |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| floor: handler in-process (small MLP) | 1 | {fl['rps']:.0f} | {fl['p50_ms']:.3f} "
        f"| {fl['p99_ms']:.3f} | - | - |",
    ]
    rows = [
        ("ours", "`serve`, small MLP"),
        ("starlette", "same handler, Starlette routing"),
        ("torchserve", "TorchServe 0.12, small MLP"),
        ("wide_nobatch", "`serve`, wide MLP, no batching"),
        ("wide_nobatch_1w", "`serve`, wide MLP, no batching, 1 worker"),
        ("wide_batch", "`serve`, wide MLP, micro-batching"),
    ]
    for key, label in rows:
        for c, r in res.get(key, {}).items():
            lines.append(
                f"| {label} | {c} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['rss_mb']:.0f} "
                f"| {r['background_cores']:.2f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds of load at c=8 before measuring (default 8)")
    parser.add_argument("--skip-torchserve", action="store_true")
    parser.add_argument("--torchserve-default-logs", action="store_true", help="keep TorchServe's DEBUG file logging")
    parser.add_argument("--skip-starlette", action="store_true")
    parser.add_argument("--batch-size", type=int, default=32, help="SERVING_MAX_BATCH_SIZE for (d)")
    parser.add_argument("--batch-delay-ms", type=float, default=5.0, help="SERVING_MAX_BATCH_DELAY_MS for (d)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print(WRK_HELP, file=sys.stderr)
        return 2

    res: dict = {"machine": machine(), "duration_s": args.duration, "warmup_s": args.warmup, "concurrency": [1, 8, 32]}
    print(json.dumps(res["machine"]), flush=True)
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        work = Path(tmp)
        log = work / "servers.log"
        small, small_body = save_model(work / "small", mlp(16, 64, 2, 2), 16)
        wide, wide_body = save_model(work / "wide", mlp(256, 2048, 3, 8), 256)
        res["models"] = {
            "small": {
                "shape": "16-64-64-2 MLP",
                "forward_b1_ms": forward_ms(small, 16, 1),
                "body_bytes": len(small_body),
            },
            "wide": {
                "shape": "256-2048-2048-2048-8 MLP",
                "forward_b1_ms": forward_ms(wide, 256, 1),
                "forward_b32_ms": forward_ms(wide, 256, 32),
                "body_bytes": len(wide_body),
            },
        }
        print(json.dumps(res["models"]), flush=True)
        small_lua, wide_lua = lua_script(work, small_body), lua_script(work, wide_body)

        print("(a) floor", flush=True)
        res["floor"] = floor(small, small_body)
        fl = res["floor"]
        print(f"  handler in-process: {fl['rps']:.0f} calls/s, p50 {fl['p50_ms']:.3f} ms, p99 {fl['p99_ms']:.3f} ms")

        print("(b) serve", flush=True)
        with our_server(small, log) as (url, proc):
            res["ours"] = load("serve", url, proc, small_lua, [1, 8, 32], args.duration, args.warmup)
        if not args.skip_starlette:
            with starlette_server(small, log) as (url, proc):
                res["starlette"] = load("starlette routing", url, proc, small_lua, [1, 8], args.duration, args.warmup)
        if not args.skip_torchserve:
            print("(c) TorchServe 0.12", flush=True)
            quiet = not args.torchserve_default_logs
            with torchserve(small, work / "torchserve", log, quiet_logs=quiet) as (url, proc):
                res["torchserve"] = load("torchserve", url, proc, small_lua, [1, 8, 32], args.duration, args.warmup)

        print("(d) micro-batching, wide MLP", flush=True)
        with our_server(wide, log) as (url, proc):
            res["wide_nobatch"] = load("serve, no batching", url, proc, wide_lua, [32], args.duration, args.warmup)
        # Two copies of a 34 MB model thrash the shared cache: one worker may be the faster no-batching setup.
        with our_server(wide, log, SAGEMAKER_MODEL_SERVER_WORKERS="1") as (url, proc):
            res["wide_nobatch_1w"] = load(
                "serve, no batching, 1 worker", url, proc, wide_lua, [32], args.duration, args.warmup
            )
        batching = {
            "SERVING_MAX_BATCH_SIZE": str(args.batch_size),
            "SERVING_MAX_BATCH_DELAY_MS": str(args.batch_delay_ms),
        }
        with our_server(wide, log, **batching) as (url, proc):
            res["wide_batch"] = load(
                f"serve, batch<={args.batch_size}", url, proc, wide_lua, [32], args.duration, args.warmup
            )
        res["batching"] = batching

    ours = res["ours"]
    checks = []
    if "torchserve" in res:
        ts = res["torchserve"]
        for c in (1, 8, 32):
            print(f"serve / TorchServe at c={c}: {ours[c]['rps'] / ts[c]['rps']:.2f}x req/s, "
                  f"p50 {ours[c]['p50_ms']:.3f} vs {ts[c]['p50_ms']:.3f} ms")  # fmt: skip
        ratio = ours[8]["rps"] / ts[8]["rps"]
        checks.append((f">= 3x TorchServe throughput at c=8: {ratio:.2f}x", ratio >= 3))
    gap = ours[1]["p50_ms"] - fl["p50_ms"]
    print(f"serve vs floor: p50 at c=1 {ours[1]['p50_ms']:.3f} ms vs {fl['p50_ms']:.3f} ms (+{gap:.3f} ms); "
          f"c=8 throughput {ours[8]['rps'] / fl['rps']:.2f}x the single-thread floor")  # fmt: skip
    checks.append((f"p50 within 0.3 ms of the floor at c=1: +{gap:.3f} ms", gap <= 0.3))
    best_unbatched = max(res["wide_nobatch"][32]["rps"], res["wide_nobatch_1w"][32]["rps"])
    gain = res["wide_batch"][32]["rps"] / best_unbatched
    checks.append((f"micro-batching >= 2x the best unbatched throughput at c=32 (wide MLP): {gain:.2f}x", gain >= 2))
    res["checks"] = {text: ok for text, ok in checks}
    print()
    print(markdown(res))
    print()
    for text, ok in checks:
        print(("PASS " if ok else "MISS ") + text)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
