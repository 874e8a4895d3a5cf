"""The same handler behind Starlette routing (used by benchmarks/serving.py to justify raw ASGI).

`uvicorn --app-dir benchmarks --factory serving_starlette_app:create_app`; model dir from
$BENCH_MODEL_DIR. Loads the model at start-up and calls the handler inline, like serving's fast path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# benchmarks/ is on sys.path (uvicorn --app-dir) and its serving.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from serving.handler import Handler  # noqa: E402


def create_app() -> Starlette:
    torch.set_num_threads(1)
    handler = Handler.load(os.environ["BENCH_MODEL_DIR"])

    async def invocations(request: Request) -> Response:
        body = await request.body()
        out, ctype, _ = handler.invoke(body, request.headers.get("content-type", ""), request.headers.get("accept", ""))
        return Response(out, media_type=ctype)

    async def ping(request: Request) -> Response:
        return Response(b'{"status":"ready"}', media_type="application/json")

    return Starlette(routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)])
