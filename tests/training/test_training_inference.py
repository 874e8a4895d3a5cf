"""The handler shipped as ``code/inference.py``, loaded from the model dir the way a server would."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

ALLOWED_IMPORTS = {"numpy", "torch"} | set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def handler(trained_job) -> ModuleType:
    path = trained_job.model_dir / "code" / "inference.py"
    spec = importlib.util.spec_from_file_location("shipped_inference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model(handler, trained_job):
    return handler.model_fn(str(trained_job.model_dir))


@pytest.fixture(scope="module")
def validation(digits_channels: Path) -> tuple[list[str], np.ndarray]:
    lines = (digits_channels / "validation" / "digits.csv").read_text().splitlines()
    return lines[0].split(","), np.loadtxt(lines[1:], delimiter=",")


def _invoke(handler, model, body, content_type="application/json", accept="application/json") -> list[dict]:
    response, response_type = handler.output_fn(handler.predict_fn(handler.input_fn(body, content_type), model), accept)
    assert response_type == "application/json"
    return json.loads(response)["predictions"]


def test_handler_depends_only_on_torch_numpy_and_stdlib(trained_job) -> None:
    tree = ast.parse((trained_job.model_dir / "code" / "inference.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS


def test_json_rows_predict_like_the_model(handler, model, validation) -> None:
    _, rows = validation
    features, labels = rows[:50, :-1], rows[:50, -1]
    predictions = _invoke(handler, model, json.dumps(features.tolist()).encode())
    assert len(predictions) == 50
    assert all(list(p["probabilities"]) == [str(c) for c in range(10)] for p in predictions)
    predicted = [p["class"] for p in predictions]
    with torch.no_grad():
        expected = model.module(torch.tensor(features, dtype=torch.float32)).numpy()
    assert predicted == expected.argmax(axis=1).tolist() and np.mean(np.asarray(predicted) == labels) > 0.85
    first = predictions[0]
    assert np.allclose(list(first["probabilities"].values()), expected[0], atol=1e-6)
    assert first["probability"] == max(first["probabilities"].values())
    assert sum(first["probabilities"].values()) == pytest.approx(1)


def test_positional_rows_are_batchable_arrays(handler, model, validation) -> None:
    """Rows first, float32: a server may stack requests and split the per-row predictions back."""
    _, rows = validation
    a = handler.input_fn(json.dumps(rows[:2, :-1].tolist()), "application/json")
    b = handler.input_fn("\n".join(",".join(map(str, row[:-1])) for row in rows[2:5]), "text/csv")
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (2, 64) and b.shape == (3, 64)
    batched = handler.predict_fn(np.concatenate([a, b]), model)
    alone = handler.predict_fn(a, model) + handler.predict_fn(b, model)
    assert [p["class"] for p in batched] == [p["class"] for p in alone]
    assert np.allclose([list(p["probabilities"].values()) for p in batched],
                       [list(p["probabilities"].values()) for p in alone], atol=1e-6)


def test_json_shapes_agree(handler, model, validation) -> None:
    header, rows = validation
    row = rows[0, :-1].tolist()
    by_name = dict(zip(header[:-1], row, strict=True))
    single = _invoke(handler, model, json.dumps(row))
    for body in ({"instances": [row]}, {"instances": row}, [by_name], {"instances": [dict(reversed(by_name.items()))]}):
        assert _invoke(handler, model, json.dumps(body)) == single


def test_csv_with_and_without_header(handler, model, validation) -> None:
    header, rows = validation
    plain = "\n".join(",".join(str(int(v)) for v in row[:-1]) for row in rows[:5])
    as_json = _invoke(handler, model, json.dumps(rows[:5, :-1].tolist()))
    assert _invoke(handler, model, plain, "text/csv; charset=utf-8") == as_json
    # The channel file itself, label column and all, with its columns shuffled.
    order = list(reversed(range(len(header))))
    with_header = "\n".join([",".join(header[i] for i in order)] +
                            [",".join(str(int(row[i])) for i in order) for row in rows[:5]])
    assert _invoke(handler, model, with_header.encode(), "text/csv") == as_json


def test_predict_fn_takes_arrays_tensors_and_lists(handler, model, validation) -> None:
    _, rows = validation
    row = rows[0, :-1]
    expected = handler.predict_fn(row.astype(np.float32).reshape(1, -1), model)
    for data in (row, torch.tensor(row), row.tolist(), [row.tolist()], np.asarray([row], dtype=np.float64)):
        assert [p["class"] for p in handler.predict_fn(data, model)] == [p["class"] for p in expected]
    with pytest.raises(handler.RequestError, match="finite"):
        handler.predict_fn(np.full((1, 64), np.nan), model)


def test_accept_variants(handler, model) -> None:
    prediction = handler.predict_fn(handler.input_fn("[" + ",".join(["0"] * 64) + "]"), model)
    for accept in (None, "", "*/*", "application/json", "text/html, application/json;q=0.9"):
        body, content_type = handler.output_fn(prediction, accept)
        assert content_type == "application/json" and json.loads(body) == {"predictions": prediction}


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    ("1,2,3", "application/x-npy", 415, "not supported"),
    ("[1, 2, 3]", "application/json", 400, "needs 64 features, got 3"),
    ("{not json", "application/json", 400, "not valid JSON"),
    ('{"rows": []}', "application/json", 400, '"instances"'),
    ('[["a"] ]', "application/json", 400, "must be numbers"),
    ('[[1, 2], [3]]', "application/json", 400, "same number of values"),
    ("pixel_0,pixel_1\n1,2\n", "text/csv", 400, "missing feature columns"),
    ("", "text/csv", 400, "no rows"),
])
def test_bad_requests(handler, model, body, content_type, status, message) -> None:
    with pytest.raises(handler.RequestError) as info:
        handler.predict_fn(handler.input_fn(body, content_type), model)
    assert info.value.status_code == status and message in str(info.value)


def test_unsupported_accept(handler, model) -> None:
    prediction = handler.predict_fn(np.zeros((1, 64), dtype=np.float32), model)
    with pytest.raises(handler.NotAcceptable) as info:
        handler.output_fn(prediction, "text/csv")
    assert info.value.status_code == 406
