"""Inference handler shipped with every model as ``code/inference.py`` (SageMaker handler hooks).

Self-contained on purpose: it needs only torch, numpy and the standard library, so any serving
runtime that speaks the ``model_fn / input_fn / predict_fn / output_fn`` convention can load it.

Requests (``content_type``):

* ``application/json``: a list of rows (``[[...], [...]]``), one row (``[...]``), or
  ``{"instances": <either>}``; a row is a list of numbers in schema order or an object keyed
  by feature name.
* ``text/csv``: one row per line, numbers in schema order, no label column; an optional header
  line of feature names (extra columns such as the label are ignored).

Responses (``accept``): ``application/json`` (``*/*`` and an empty accept mean JSON)::

    {"predictions": [{"class": 3, "probability": 0.98, "probabilities": {"0": 0.001, ..., "9": 0.002}}]}

Positional rows decode to a float32 array (rows first) and predictions are one entry per row, so
a server may stack concurrent requests into one forward pass and split the result by rows.
Errors raise :class:`RequestError` subclasses carrying an HTTP ``status_code`` (400, 406, 415).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

MODEL_FILE = "model.pt"
METADATA_FILE = "metadata.json"
JSON = "application/json"
CSV = "text/csv"
CONTENT_TYPES = (JSON, CSV)
ACCEPT_TYPES = (JSON,)


class RequestError(ValueError):
    """The request cannot be served as sent (HTTP 400)."""

    status_code = 400


class UnsupportedMediaType(RequestError):
    status_code = 415


class NotAcceptable(RequestError):
    status_code = 406


class LoadedModel(NamedTuple):
    module: torch.jit.ScriptModule
    classes: list[Any]
    feature_names: list[str]
    device: torch.device


class NamedRows(NamedTuple):
    """Rows whose columns the request named (CSV header, JSON objects): aligned to the schema in predict_fn."""

    values: np.ndarray
    columns: list[str]


def model_fn(model_dir: str) -> LoadedModel:
    """Load ``model.pt`` (TorchScript, returns probabilities) and the schema embedded in it."""
    extra = {METADATA_FILE: ""}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    module = torch.jit.load(str(Path(model_dir) / MODEL_FILE), map_location=device, _extra_files=extra)
    metadata = json.loads(extra[METADATA_FILE] or "{}")
    return LoadedModel(module.eval(), list(metadata["classes"]), list(metadata["feature_names"]), device)


def _media_types(header: str | None) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in (header or "").split(",") if part.strip()]


def _rows_from_json(text: str) -> np.ndarray | NamedRows:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(f"body is not valid JSON: {exc}") from None
    if isinstance(payload, dict):
        if "instances" not in payload:
            raise RequestError('a JSON object body needs an "instances" key')
        payload = payload["instances"]
    if not isinstance(payload, list) or not payload:
        raise RequestError("expected a non-empty list of rows")
    if not isinstance(payload[0], (list, dict)):
        payload = [payload]  # a single row
    if all(isinstance(row, dict) for row in payload):
        columns = list(payload[0])
        if any(set(row) != set(columns) for row in payload):
            raise RequestError("every object row must have the same keys")
        return NamedRows(_numbers([[row[c] for c in columns] for row in payload]), columns)
    if not all(isinstance(row, list) for row in payload):
        raise RequestError("rows must all be lists of numbers or all be objects")
    return _numbers(payload)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _rows_from_csv(text: str) -> np.ndarray | NamedRows:
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text)) if row]
    if not rows:
        raise RequestError("the CSV body has no rows")
    if not any(_is_number(cell) for cell in rows[0]):
        columns, rows = rows[0], rows[1:]
        if not rows:
            raise RequestError("the CSV body has a header but no rows")
        return NamedRows(_numbers(rows), columns)
    return _numbers(rows)


def _numbers(rows: list[list[Any]]) -> np.ndarray:
    if len({len(row) for row in rows}) != 1:
        raise RequestError("all rows must have the same number of values")
    if any(isinstance(v, bool) or (isinstance(v, str) and not v) for row in rows for v in row):
        raise RequestError("features must be numbers")
    try:
        values = np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError):
        raise RequestError("features must be numbers") from None
    return _checked(values)


def _checked(values: np.ndarray) -> np.ndarray:
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise RequestError("expected rows of feature values")
    if not np.isfinite(values).all():
        raise RequestError("features must be finite numbers")
    return values


def input_fn(request_body: bytes | str, content_type: str | None = JSON) -> np.ndarray | NamedRows:
    """Parse a JSON or CSV body: a float32 array (rows, features), or :class:`NamedRows` when columns are named."""
    text = request_body.decode("utf-8") if isinstance(request_body, (bytes, bytearray)) else request_body
    media = (_media_types(content_type) or [JSON])[0]
    if media == JSON:
        return _rows_from_json(text)
    if media == CSV:
        return _rows_from_csv(text)
    raise UnsupportedMediaType(f"content type {content_type!r} is not supported; use one of {list(CONTENT_TYPES)}")


def _aligned(data: np.ndarray | torch.Tensor | NamedRows | list, model: LoadedModel) -> np.ndarray:
    """The rows as a contiguous float32 array in schema order."""
    if isinstance(data, NamedRows):
        missing = [name for name in model.feature_names if name not in data.columns]
        if missing:
            raise RequestError(f"missing feature columns {missing[:5]} (expected {len(model.feature_names)} features)")
        values = data.values[:, [data.columns.index(name) for name in model.feature_names]]
    elif isinstance(data, (np.ndarray, torch.Tensor)):
        array = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else data
        try:
            array = array.astype(np.float32, copy=False)
        except (TypeError, ValueError):
            raise RequestError("features must be numbers") from None
        values = _checked(array.reshape(1, -1) if array.ndim == 1 else array)
    else:
        values = _numbers([data] if data and not isinstance(data[0], (list, tuple)) else list(data))
    if values.shape[1] != len(model.feature_names):
        raise RequestError(f"each row needs {len(model.feature_names)} features, got {values.shape[1]}")
    return np.ascontiguousarray(values, dtype=np.float32)


def predict_fn(input_data: np.ndarray | torch.Tensor | NamedRows | list, model: LoadedModel) -> list[dict[str, Any]]:
    """One entry per row: the most likely class, its probability, and every class's probability."""
    values = _aligned(input_data, model)
    with torch.inference_mode():
        probabilities = model.module(torch.from_numpy(values).to(model.device)).cpu().numpy()
    labels = [str(c) for c in model.classes]
    return [
        {"class": model.classes[best], "probability": float(row[best]),
         "probabilities": dict(zip(labels, row.tolist(), strict=True))}
        for best, row in zip(probabilities.argmax(axis=1).tolist(), probabilities, strict=True)
    ]


def output_fn(prediction: list[dict[str, Any]], accept: str | None = JSON) -> tuple[str, str]:
    """The body ``{"predictions": [...]}`` as JSON, and its content type."""
    accepted = _media_types(accept)
    if accepted and not any(media in (JSON, "application/*", "*/*") for media in accepted):
        raise NotAcceptable(f"accept {accept!r} is not supported; use one of {list(ACCEPT_TYPES)}")
    return json.dumps({"predictions": list(prediction)}), JSON
