"""The user-code contract end to end (docs/user-code-contract.md): a team's own training script, not the
digits example, trains on the training runtime and its model directory serves on the serving runtime."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

TRAIN_SCRIPT = '''
    """Least-squares line through channel `train` (CSV x,y); --scale multiplies every prediction."""
    import argparse, csv, json, os, pathlib, shutil

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    rows = []
    for path in sorted(pathlib.Path(os.environ["SM_CHANNEL_TRAIN"]).glob("*.csv")):
        rows += [(float(x), float(y)) for x, y in csv.reader(path.open())]
    n = len(rows)
    mx, my = sum(x for x, _ in rows) / n, sum(y for _, y in rows) / n
    slope = sum((x - mx) * (y - my) for x, y in rows) / sum((x - mx) ** 2 for x, _ in rows)
    model_dir = pathlib.Path(os.environ["SM_MODEL_DIR"])
    (model_dir / "code").mkdir(parents=True)
    (model_dir / "line.json").write_text(json.dumps({"slope": slope * args.scale,
                                                     "intercept": (my - slope * mx) * args.scale}))
    shutil.copy(pathlib.Path(__file__).with_name("inference.py"), model_dir / "code" / "inference.py")
    print(f"epoch=1 rows={n};")
'''

INFERENCE = '''
    import json, os

    def model_fn(model_dir):
        with open(os.path.join(model_dir, "line.json")) as handle:
            return json.load(handle)

    def input_fn(body, content_type):
        return json.loads(body)["x"]

    def predict_fn(xs, line):
        return [line["slope"] * x + line["intercept"] for x in xs]

    def output_fn(prediction, accept):
        return json.dumps({"y": prediction}), "application/json"
'''


def test_a_teams_own_script_trains_and_serves(tmp_path: Path, start_server) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "fit_line.py").write_text(textwrap.dedent(TRAIN_SCRIPT))
    (source / "inference.py").write_text(textwrap.dedent(INFERENCE))
    base = tmp_path / "ml"
    (base / "input" / "data" / "train").mkdir(parents=True)
    (base / "input" / "data" / "train" / "points.csv").write_text("0,1\n1,3\n2,5\n3,7\n")
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps({
        "scale": "10", "sagemaker_program": '"fit_line.py"', "sagemaker_submit_directory": json.dumps(str(source))}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env["SAGEMAKER_BASE_DIR"] = str(base)
    result = subprocess.run([sys.executable, "-m", "training"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "epoch=1 rows=4;" in result.stdout
    assert json.loads((base / "model" / "line.json").read_text()) == {"slope": 20.0, "intercept": 10.0}

    server = start_server(base / "model")
    server.wait_ready()
    response = httpx.post(server.url + "/invocations", json={"x": [0, 1.5]}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"y": [10.0, 40.0]}
