"""``python -m training.evaluation``: a retraining pipeline's evaluation step (SageMaker Processing contract).

Reads the trained artifact from ``<processing>/model/model.tar.gz`` and writes
``<processing>/evaluation/evaluation.json`` as ``{"metrics": {name: {"value": number}}}``, the property file
the pipeline's condition reads (``Std:JsonGet`` on ``metrics.<name>.value``). ``<processing>`` is
``/opt/ml/processing``, or ``SAGEMAKER_PROCESSING_DIR`` (local runs).

The metrics are the numeric ones of the artifact's model card (``model_card.json``: the training's final
metrics on its validation channel). A model without a card, or without numeric metrics, fails the step with a
reason in ``<processing>/evaluation/failure``, so the pipeline stops before its condition.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

PROCESSING_DIR = "/opt/ml/processing"
CARD = "model_card.json"


class EvaluationError(Exception):
    """The artifact cannot be evaluated; the message says why."""


def base_dir() -> Path:
    return Path(os.environ.get("SAGEMAKER_PROCESSING_DIR", PROCESSING_DIR))


def card_metrics(archive: Path) -> dict[str, float]:
    """The numeric metrics of the model card inside a ``model.tar.gz``."""
    if not archive.is_file():
        raise EvaluationError(f"no model artifact at {archive}")
    with tarfile.open(archive, mode="r:gz") as tar:
        member = next((m for m in tar.getmembers() if m.isfile() and Path(m.name).name == CARD
                       and Path(m.name).parent in (Path("."), Path(""))), None)
        if member is None:
            raise EvaluationError(f"{archive} holds no {CARD} at its top level: the training wrote no model card")
        handle = tar.extractfile(member)
        assert handle is not None
        card: Any = json.loads(handle.read())
    metrics = card.get("metrics") if isinstance(card, dict) else None
    numbers = {str(k): float(v) for k, v in (metrics or {}).items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    if not numbers:
        raise EvaluationError(f"the model card of {archive} has no numeric metrics")
    return numbers


def report(metrics: dict[str, float]) -> dict[str, Any]:
    return {"metrics": {name: {"value": value} for name, value in sorted(metrics.items())}}


def main() -> int:
    base = base_dir()
    out = base / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    try:
        metrics = card_metrics(base / "model" / "model.tar.gz")
    except (EvaluationError, OSError, ValueError, tarfile.TarError) as exc:
        (out / "failure").write_text(str(exc))
        print(f"evaluation failed: {exc}", file=sys.stderr)
        return 1
    (out / "evaluation.json").write_text(json.dumps(report(metrics), indent=2))
    print(f"evaluation: {', '.join(f'{k}={v:.6g}' for k, v in sorted(metrics.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
