"""End to end as a data scientist runs it: train on the digits channels, serve the model directory the
training run wrote, and get correct predictions over HTTP in every content type."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from training.examples.digits import dataset

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("opt_ml")
    dataset.export(base / "input" / "data")
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({"epochs": "6", "seed": "7"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(SAGEMAKER_BASE_DIR=str(base), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "training"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return base


def validation_rows(base: Path) -> tuple[list[str], list[list[int]], list[int]]:
    with (base / "input" / "data" / "validation" / dataset.FILE_NAME).open() as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [list(map(int, row)) for row in reader]
    return header[:-1], [row[:-1] for row in rows], [row[-1] for row in rows]


def test_served_model_predicts_what_training_reported(trained_model, start_server):
    card = json.loads((trained_model / "model" / "model_card.json").read_text())
    server = start_server(trained_model / "model", args=("--max-batch-size", "16"))
    server.wait_ready()
    names, rows, labels = validation_rows(trained_model)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        response = client.post("/invocations", json={"instances": rows})
        assert response.status_code == 200, response.text
        predicted = [int(p["class"]) for p in response.json()["predictions"]]
        accuracy = sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(labels)
        assert accuracy > 0.85
        assert accuracy == pytest.approx(card["metrics"]["validation_accuracy"], abs=1e-9)

        header = ",".join(names) + "\n"
        body = header + "\n".join(",".join(map(str, row)) for row in rows[:5]) + "\n"
        as_csv = client.post("/invocations", content=body, headers={"Content-Type": "text/csv"})
        assert [int(p["class"]) for p in as_csv.json()["predictions"]] == predicted[:5]
        metrics = client.get("/metrics").text
        assert 'status="200"' in metrics
