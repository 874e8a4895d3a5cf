"""`make demo` stops everything it started when interrupted (Ctrl-C) in the middle of training."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _training_processes(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_ctrl_c_during_training_leaves_nothing_running(tmp_path):
    environment = {**os.environ, "MLP_STATE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    environment.pop("AWS_ENDPOINT_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "platform_lib.demo"], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    assert demo.stdout is not None
    try:
        for line in demo.stdout:
            output.append(line)
            if line.startswith("epoch=1 "):   # the training subprocess is running
                break
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=180)
    finally:
        if demo.poll() is None:
            demo.kill()
    output.append(rest)
    text = "".join(output)
    assert demo.returncode == 130, text
    assert "demo stopped: interrupted" in text and "train (local target)" in text, text[-3000:]
    port = int(re.search(r"http://127\.0\.0\.1:(\d+), account", text).group(1))   # type: ignore[union-attr]
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    deadline = time.monotonic() + 10
    while _training_processes(f"SAGEMAKER_BASE_DIR={tmp_path}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _training_processes(f"SAGEMAKER_BASE_DIR={tmp_path}") == []
    assert not list(tmp_path.glob("mlp-scorer-*"))   # the temporary SAGEMAKER_BASE_DIR is gone
