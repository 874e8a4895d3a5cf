"""TorchServe handler equivalent to serving's default JSON path (used by benchmarks/serving.py).

Module-level `handle(data, context)`: JSON rows in, the TorchScript model's output as JSON rows out.
TorchServe's worker already parses `application/json` bodies, so the JSON decode happens there.
"""

from __future__ import annotations

import json
import os

import torch

_model = None


def _load(context) -> torch.jit.ScriptModule:  # noqa: ANN001 - TorchServe's Context
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model_dir = context.system_properties.get("model_dir")
    serialized = context.manifest["model"]["serializedFile"]
    return torch.jit.load(os.path.join(model_dir, serialized), map_location="cpu").eval()


def handle(data, context):  # noqa: ANN001, ANN201 - TorchServe's entry point signature
    global _model
    if _model is None:
        _model = _load(context)
    if data is None:
        return None
    responses = []
    for request in data:
        body = request.get("body") if request.get("body") is not None else request.get("data")
        if isinstance(body, bytes | bytearray):
            body = json.loads(body)
        rows = torch.tensor(body, dtype=torch.float32)
        if rows.ndim == 1:
            rows = rows.unsqueeze(0)
        with torch.inference_mode():
            output = _model(rows)
        responses.append(json.dumps(output.tolist(), separators=(",", ":")))
    return responses
