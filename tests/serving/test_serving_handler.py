"""Hook loading, defaults and error mapping, in-process (no server)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from serving.errors import ServingError
from serving.handler import Handler, Hooks, default_model_fn, find_model_file


@pytest.fixture(autouse=True)
def _forget_user_module() -> Iterator[None]:
    yield
    sys.modules.pop("inference", None)


def test_defaults_run_the_torchscript_model(linear_model_dir: Path) -> None:
    handler = Handler.load(str(linear_model_dir))
    assert handler.hooks.custom == frozenset()
    body, ctype, rows = handler.invoke(b"[[1, 2, 3]]", "application/json", "")
    assert (json.loads(body), ctype, rows) == ([[1.0, 5.5]], "application/json", 1)


def test_wrong_feature_count_is_a_400(linear_model_dir: Path) -> None:
    handler = Handler.load(str(linear_model_dir))
    with pytest.raises(ServingError) as info:
        handler.invoke(b"[[1, 2, 3, 4]]", "application/json", "")
    assert info.value.status == 400
    assert "shape (1, 4)" in info.value.message


def test_unsupported_accept_fails_before_predict(linear_model_dir: Path) -> None:
    handler = Handler.load(str(linear_model_dir))
    handler.hooks.predict_fn = lambda data, model: pytest.fail("predict_fn ran")
    with pytest.raises(ServingError) as info:
        handler.invoke(b"[[1, 2, 3]]", "application/json", "image/png")
    assert info.value.status == 406


def test_find_model_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no model.pt"):
        find_model_file(tmp_path)
    (tmp_path / "weights.pth").write_bytes(b"")
    assert find_model_file(tmp_path).name == "weights.pth"
    (tmp_path / "other.pt").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="several model files"):
        find_model_file(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"")
    assert find_model_file(tmp_path).name == "model.pt"


def test_a_non_torchscript_file_says_so(tmp_path: Path) -> None:
    torch.save({"weight": torch.ones(2)}, tmp_path / "model.pt")  # a state dict, not TorchScript
    with pytest.raises(RuntimeError, match="not a TorchScript archive"):
        default_model_fn(str(tmp_path))


def test_a_subset_of_hooks_with_defaults_for_the_rest(
    kit: SimpleNamespace, linear_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = kit.save_linear_model(tmp_path / "model")
    kit.write_code(
        model_dir,
        """
        def predict_fn(data, model):
            return model(data) * 2
        """,
    )
    handler = Handler.load(str(model_dir))
    assert handler.hooks.custom == frozenset({"predict_fn"})
    body, ctype, _ = handler.invoke(b"1,2,3\n", "text/csv", "text/csv")
    assert (body, ctype) == (b"2.0,11.0\n", "text/csv")


def test_transform_fn_and_output_shapes(kit: SimpleNamespace, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    kit.write_code(
        model_dir,
        """
        import helper  # a sibling module in code/ is importable

        def model_fn(model_dir):
            return {"scale": helper.SCALE}

        def transform_fn(model, body, content_type, accept):
            if body == b"bytes":
                return b"raw", "application/octet-stream"
            if body == b"data":
                return {"n": model["scale"]}
            return f"{content_type}|{accept}|{float(body) * model['scale']}"
        """,
    )
    (model_dir / "code" / "helper.py").write_text("SCALE = 3\n")
    handler = Handler.load(str(model_dir))
    assert not handler.batchable
    assert handler.invoke(b"2", "", "*/*") == (b"application/json|application/json|6.0", "application/json", 0)
    assert handler.invoke(b"2", "text/plain", "text/x-mine")[:2] == (b"text/plain|text/x-mine|6.0", "text/x-mine")
    assert handler.invoke(b"bytes", "", "")[:2] == (b"raw", "application/octet-stream")
    assert handler.invoke(b"data", "", "")[:2] == (b'{"n":3}', "application/json")
    with pytest.raises(ServingError) as info:
        handler.invoke(b"not a number", "", "")
    assert info.value.status == 400  # ValueError from a hook


def test_error_mapping(caplog: pytest.LogCaptureFixture) -> None:
    class Teapot(Exception):
        status_code = 418

    def boom(*_: object) -> None:
        raise KeyError("missing")

    hooks = Hooks(input_fn=boom, predict_fn=boom, output_fn=boom)
    handler = Handler(hooks, model=object())
    with pytest.raises(ServingError) as info:
        handler.decode(b"", "application/json")
    assert info.value.status == 400  # KeyError in input_fn: the request lacked something
    with pytest.raises(ServingError) as info:
        handler.predict(None)
    assert (info.value.status, info.value.message) == (500, "internal error in predict_fn: KeyError")
    assert "predict_fn raised KeyError" in caplog.text

    def teapot(*_: object) -> None:
        raise Teapot("short and stout")

    handler = Handler(Hooks(output_fn=teapot, custom=frozenset({"output_fn"})), model=object())
    with pytest.raises(ServingError) as info:
        handler.encode([1], "")
    assert (info.value.status, info.value.message) == (418, "short and stout")
