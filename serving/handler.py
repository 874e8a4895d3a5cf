"""The SageMaker PyTorch handler hooks: user-defined ones from `code/<program>`, defaults otherwise.

Hooks (any subset may be defined in `model_dir/code/inference.py`):
  model_fn(model_dir) -> model
  input_fn(request_body: bytes, content_type: str) -> data
  predict_fn(data, model) -> prediction
  output_fn(prediction, accept: str) -> bytes | str | (body, content_type)
  transform_fn(model, request_body, content_type, accept) -> same as output_fn (replaces the other three)

Errors: a `serving.errors.ServingError` keeps its status, so does any exception with an integer 4xx
`status_code` attribute; `ValueError` from any hook (and `TypeError`, `KeyError`, `IndexError` from
input_fn) is bad input, 400; anything else is a 500 and is logged with its traceback.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from serving import codecs
from serving.batching import rows_of
from serving.errors import BadRequest, ServingError, UnsupportedAccept

log = logging.getLogger("serving")
HOOKS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
_CLIENT_ERRORS_IN_INPUT = (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError)


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def find_model_file(model_dir: Path) -> Path:
    """`model.pt`, else the only `*.pt` / `*.pth` file at the top of the model dir."""
    preferred = model_dir / "model.pt"
    if preferred.is_file():
        return preferred
    candidates = sorted(p for p in model_dir.iterdir() if p.is_file() and p.suffix in (".pt", ".pth"))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise FileNotFoundError(f"no model.pt (or other *.pt/*.pth file) in {model_dir}")
    names = ", ".join(p.name for p in candidates)
    raise FileNotFoundError(f"several model files in {model_dir} ({names}) and no model.pt; define model_fn")


def default_model_fn(model_dir: str) -> torch.jit.ScriptModule:
    """Load the TorchScript model in `model_dir` onto the GPU if there is one, in eval mode."""
    path = find_model_file(Path(model_dir))
    try:
        model = torch.jit.load(str(path), map_location=_device())
    except RuntimeError as exc:
        raise RuntimeError(f"{path.name} is not a TorchScript archive ({exc}); define model_fn to load it") from exc
    model.eval()
    return model


def default_input_fn(request_body: bytes, content_type: str) -> torch.Tensor:
    """JSON / CSV / .npy -> a 2-D (rows first) tensor; see `serving.codecs`."""
    return codecs.decode(request_body, content_type)


def default_predict_fn(data: Any, model: Any) -> Any:
    """Run the model without autograd; a forward that raises is reported as bad input (400)."""
    device = getattr(model, "_serving_device", None)
    if isinstance(data, torch.Tensor) and device is not None and data.device != device:
        data = data.to(device)
    try:
        with torch.inference_mode():
            return model(data)
    except RuntimeError as exc:
        shape = tuple(data.shape) if isinstance(data, torch.Tensor) else type(data).__name__
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise BadRequest(f"the model rejected input of shape {shape}: {first}") from None


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    """Encode for Accept (JSON, CSV or .npy; `*/*` -> JSON); 406 otherwise."""
    return codecs.encode(prediction, accept)


def load_user_module(code_dir: Path, program: str = "inference.py") -> ModuleType | None:
    """Import `code_dir/program` as a module (its directory on sys.path), or None if absent."""
    script = code_dir / program
    if not script.is_file():
        return None
    name = Path(program).stem
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Hooks:
    """The hooks in effect; `custom` names those that came from the user's module."""

    model_fn: Callable[[str], Any] = default_model_fn
    input_fn: Callable[[bytes, str], Any] = default_input_fn
    predict_fn: Callable[[Any, Any], Any] = default_predict_fn
    output_fn: Callable[[Any, str], Any] = default_output_fn
    transform_fn: Callable[[Any, bytes, str, str], Any] | None = None
    custom: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_module(cls, module: ModuleType | None) -> Hooks:
        found = {n: getattr(module, n) for n in HOOKS if module is not None and callable(getattr(module, n, None))}
        if "transform_fn" in found and {"input_fn", "predict_fn", "output_fn"} & found.keys():
            log.warning("code defines transform_fn and input/predict/output_fn: transform_fn wins")
        return cls(**found, custom=frozenset(found))


def _as_serving_error(exc: BaseException, stage: str) -> ServingError:
    if isinstance(exc, ServingError):
        return exc
    code = getattr(exc, "status_code", None)
    if isinstance(code, int) and 400 <= code < 500:  # e.g. a hook's own RequestError(status_code=415)
        return ServingError(str(exc) or type(exc).__name__, code)
    if isinstance(exc, ValueError) or (stage == "input_fn" and isinstance(exc, _CLIENT_ERRORS_IN_INPUT)):
        return BadRequest(f"{stage}: {exc}" if str(exc) else f"{stage}: {type(exc).__name__}")
    log.error("%s raised %s", stage, type(exc).__name__, exc_info=exc)
    return ServingError(f"internal error in {stage}: {type(exc).__name__}", 500)


def _accept_for_user(accept: str) -> str:
    return "application/json" if not accept or accept.strip() in ("*/*", "") else accept


class Handler:
    """A loaded model and its hooks; every method raises `ServingError` with a client-safe message."""

    def __init__(self, hooks: Hooks, model: Any) -> None:
        self.hooks = hooks
        self.model = model
        self.default_output = "output_fn" not in hooks.custom and hooks.transform_fn is None
        self.batchable = hooks.transform_fn is None  # transform_fn owns the whole request: nothing to batch

    @classmethod
    def load(cls, model_dir: str, program: str = "inference.py") -> Handler:
        """Import the user's hooks and run model_fn (slow: call it off the event loop)."""
        started = time.perf_counter()
        hooks = Hooks.from_module(load_user_module(Path(model_dir) / "code", program))
        if (Path(model_dir) / "code" / "requirements.txt").is_file():
            log.warning("code/requirements.txt is not installed at start-up: bake dependencies into the image")
        model = hooks.model_fn(model_dir)
        if model is None:
            raise RuntimeError("model_fn returned None")
        if isinstance(model, torch.nn.Module):
            try:
                model._serving_device = next(model.parameters()).device  # type: ignore[attr-defined]
            except (StopIteration, AttributeError, RuntimeError):
                pass
        log.info(
            "model loaded from %s in %.2fs (custom hooks: %s)",
            model_dir,
            time.perf_counter() - started,
            ", ".join(sorted(hooks.custom)) or "none",
        )
        return cls(hooks, model)

    def check_accept(self, accept: str) -> None:
        """Fail fast with 406 before any work when the default output_fn cannot honour Accept."""
        if self.default_output and codecs.negotiate(accept) is None:
            raise UnsupportedAccept(
                f"cannot produce any of Accept {accept!r}; supported: {', '.join(codecs.SUPPORTED)}"
            )

    def decode(self, body: bytes, content_type: str) -> Any:
        try:
            return self.hooks.input_fn(body, content_type or codecs.JSON)
        except Exception as exc:  # noqa: BLE001 - classified into a status
            raise _as_serving_error(exc, "input_fn") from None

    def predict(self, data: Any) -> Any:
        try:
            return self.hooks.predict_fn(data, self.model)
        except Exception as exc:  # noqa: BLE001
            raise _as_serving_error(exc, "predict_fn") from None

    def encode(self, prediction: Any, accept: str) -> tuple[bytes, str]:
        try:
            if self.default_output:
                return codecs.encode(prediction, accept)
            return self._response(self.hooks.output_fn(prediction, _accept_for_user(accept)), accept)
        except Exception as exc:  # noqa: BLE001
            raise _as_serving_error(exc, "output_fn") from None

    def transform(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        assert self.hooks.transform_fn is not None
        try:
            result = self.hooks.transform_fn(self.model, body, content_type or codecs.JSON, _accept_for_user(accept))
            return self._response(result, accept)
        except Exception as exc:  # noqa: BLE001
            raise _as_serving_error(exc, "transform_fn") from None

    async def invoke_with(
        self, body: bytes, content_type: str, accept: str, predict: Callable[[Any], Awaitable[Any]]
    ) -> tuple[bytes, str, int]:
        """The whole request: input_fn -> `predict` -> output_fn (or transform_fn, never batched).

        `predict(data)` is how the caller runs predict_fn: here, in a thread, or in a micro-batch.
        Returns the response body, its content type, and the rows of the forward pass (0 if unknown).
        """
        if self.hooks.transform_fn is not None:
            return (*self.transform(body, content_type, accept), 0)
        self.check_accept(accept)
        data = self.decode(body, content_type)
        out, out_type = self.encode(await predict(data), accept)
        return out, out_type, rows_of(data)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str, int]:
        """:meth:`invoke_with` with predict_fn called right here, run to completion synchronously."""
        request = self.invoke_with(body, content_type, accept, self._predict_now)
        try:
            request.send(None)  # _predict_now never suspends, so the coroutine finishes in this one step
        except StopIteration as done:
            return done.value
        request.close()
        raise RuntimeError("Handler.invoke_with suspended without an awaiting caller")

    async def _predict_now(self, data: Any) -> Any:
        return self.predict(data)

    @staticmethod
    def _response(result: Any, accept: str) -> tuple[bytes, str]:
        """Normalise what a user hook returned: bytes, str, (body, content_type), or JSON-able data."""
        content_type = None
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str):
            result, content_type = result
        if content_type is None:
            content_type = codecs.negotiate(accept) or accept.split(",")[0].strip() or codecs.JSON
        if isinstance(result, bytes | bytearray | memoryview):
            return bytes(result), content_type
        if isinstance(result, str):
            return result.encode(), content_type
        return codecs.encode_json(result), codecs.JSON
