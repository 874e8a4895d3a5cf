"""Content types: decode request bodies into tensors and encode predictions for an Accept header.

Supported both ways: `application/json`, `text/csv`, `application/x-npy` (NumPy .npy bytes).
JSON input is a list of rows, one row (a flat list), or `{"instances": [...]}`; JSON and CSV decode to
float32, .npy keeps its dtype except that other float types become float32. A 1-D input is one row.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import torch

from serving.errors import BadRequest, UnsupportedAccept, UnsupportedContentType

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
SUPPORTED = (JSON, CSV, NPY)
_WILDCARDS = {"*/*": JSON, "application/*": JSON, "text/*": CSV}
_CACHE_LIMIT = 256
_accept_cache: dict[str, str | None] = {}
_ctype_cache: dict[str, str] = {}


def media_type(header: str | None) -> str:
    """`"Application/JSON; charset=utf-8"` -> `"application/json"`; empty -> JSON (SageMaker's default)."""
    if not header:
        return JSON
    cached = _ctype_cache.get(header)
    if cached is None:
        cached = header.split(";", 1)[0].strip().lower() or JSON
        if len(_ctype_cache) < _CACHE_LIMIT:
            _ctype_cache[header] = cached
    return cached


def negotiate(accept: str | None) -> str | None:
    """The best supported media type for an Accept header, or None when none is acceptable."""
    if not accept:
        return JSON
    if accept in _accept_cache:
        return _accept_cache[accept]
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        fields = part.split(";")
        mtype = fields[0].strip().lower()
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if mtype and q > 0:
            ranked.append((-q, position, mtype))
    chosen: str | None = None
    for _, _, mtype in sorted(ranked):
        if mtype in SUPPORTED:
            chosen = mtype
            break
        if mtype in _WILDCARDS:
            chosen = _WILDCARDS[mtype]
            break
    if len(_accept_cache) < _CACHE_LIMIT:
        _accept_cache[accept] = chosen
    return chosen


def _rows(tensor: torch.Tensor) -> torch.Tensor:
    if tensor.ndim == 0:
        raise BadRequest("expected a list of rows, got a scalar")
    if tensor.shape[0] == 0:
        raise BadRequest("the request contains no rows")
    return tensor.unsqueeze(0) if tensor.ndim == 1 else tensor


def decode_json(body: bytes) -> torch.Tensor:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if isinstance(data, dict):
        if "instances" not in data:
            raise BadRequest('a JSON object must have an "instances" list')
        data = data["instances"]
    if not isinstance(data, list):
        raise BadRequest(f"expected a JSON list of rows, got {type(data).__name__}")
    try:
        return _rows(torch.tensor(data, dtype=torch.float32))
    except (ValueError, TypeError, RuntimeError) as exc:
        raise BadRequest(f"JSON rows must be equal-length lists of numbers: {exc}") from None


def decode_csv(body: bytes) -> torch.Tensor:
    try:
        text = body.decode("utf-8")
        rows = [[float(v) for v in line.split(",")] for line in text.splitlines() if line.strip()]
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed CSV (numbers only, no header): {exc}") from None
    if not rows:
        raise BadRequest("the request contains no rows")
    width = len(rows[0])
    for number, row in enumerate(rows, 1):
        if len(row) != width:
            raise BadRequest(f"CSV row {number} has {len(row)} values, row 1 has {width}")
    return torch.tensor(rows, dtype=torch.float32)


def decode_npy(body: bytes) -> torch.Tensor:
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"malformed .npy payload: {exc}") from None
    if not isinstance(array, np.ndarray):
        raise BadRequest("expected a single .npy array")
    if array.ndim == 0:
        raise BadRequest("expected an array of rows, got a scalar")
    if array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32)
    try:
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    except TypeError as exc:
        raise BadRequest(f"unsupported .npy dtype {array.dtype}: {exc}") from None
    return _rows(tensor)


DECODERS = {JSON: decode_json, CSV: decode_csv, NPY: decode_npy}


def decode(body: bytes, content_type: str) -> torch.Tensor:
    """Decode a request body; raises UnsupportedContentType (415) or BadRequest (400)."""
    decoder = DECODERS.get(media_type(content_type))
    if decoder is None:
        raise UnsupportedContentType(f"unsupported Content-Type {content_type!r}; supported: {', '.join(SUPPORTED)}")
    return decoder(body)


def _to_numpy(prediction: Any) -> np.ndarray:
    if isinstance(prediction, torch.Tensor):
        return prediction.detach().cpu().numpy()
    return np.asarray(prediction)


def _plain(prediction: Any) -> Any:
    if isinstance(prediction, torch.Tensor):
        return prediction.detach().cpu().tolist()
    if isinstance(prediction, np.ndarray | np.generic):
        return prediction.tolist()
    if isinstance(prediction, dict):
        return {k: _plain(v) for k, v in prediction.items()}
    if isinstance(prediction, list | tuple):
        return [_plain(v) for v in prediction]
    return prediction


def encode_json(prediction: Any) -> bytes:
    return json.dumps(_plain(prediction), separators=(",", ":")).encode()


def encode_csv(prediction: Any) -> bytes:
    array = _to_numpy(prediction)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    elif array.ndim > 2:
        array = array.reshape(array.shape[0], -1)
    return "".join(",".join(map(str, row)) + "\n" for row in array.tolist()).encode()


def encode_npy(prediction: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, _to_numpy(prediction), allow_pickle=False)
    return buffer.getvalue()


ENCODERS = {JSON: encode_json, CSV: encode_csv, NPY: encode_npy}


def encode(prediction: Any, accept: str) -> tuple[bytes, str]:
    """Encode a prediction for an Accept header; raises UnsupportedAccept (406)."""
    mtype = negotiate(accept)
    if mtype is None:
        raise UnsupportedAccept(f"cannot produce any of Accept {accept!r}; supported: {', '.join(SUPPORTED)}")
    return ENCODERS[mtype](prediction), mtype
