"""A real training run on the contract: metrics, artifacts, model card, and readable failures."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from training import checkpoint
from training.__main__ import main
from training.examples.digits.metrics import METRIC_DEFINITIONS
from training.metrics import find_lines, parse_line


def test_metric_lines_parse_with_the_published_regexes(trained_job) -> None:
    assert all(re.compile(d["Regex"]).groups == 1 for d in METRIC_DEFINITIONS)
    log_lines = trained_job.log.splitlines()
    matching = [line for line in log_lines if parse_line(line, METRIC_DEFINITIONS)]
    assert len(matching) == 6 and [m for line in matching for m in find_lines(line)] == find_lines(trained_job.log)
    parsed = [parse_line(line, METRIC_DEFINITIONS) for line in matching]
    assert [p["epoch"] for p in parsed] == [1, 2, 3, 4, 5, 6]
    assert all(set(p) == {d["Name"] for d in METRIC_DEFINITIONS} for p in parsed)
    assert parsed[-1]["train:loss"] < parsed[0]["train:loss"]
    assert parsed[-1]["validation:accuracy"] > 0.9
    history = json.loads((trained_job.base / "output" / "data" / "metrics.json").read_text())
    assert parsed[-1]["validation:accuracy"] == pytest.approx(history[-1]["validation_accuracy"], abs=1e-5)


def test_model_artifacts_load_and_predict(trained_job, digits_channels: Path) -> None:
    model_dir = trained_job.model_dir
    assert sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()) == [
        "code/inference.py", "model.pt", "model_card.json"]
    extra = {"metadata.json": ""}
    model = torch.jit.load(str(model_dir / "model.pt"), _extra_files=extra)
    metadata = json.loads(extra["metadata.json"])
    assert metadata["classes"] == list(range(10)) and len(metadata["feature_names"]) == 64
    rows = np.loadtxt(digits_channels / "validation" / "digits.csv", delimiter=",", skiprows=1)
    with torch.no_grad():
        probabilities = model(torch.tensor(rows[:, :-1], dtype=torch.float32))
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(len(rows)), atol=1e-5)
    accuracy = (probabilities.argmax(dim=1).numpy() == rows[:, -1]).mean()
    card = json.loads((model_dir / "model_card.json").read_text())
    assert accuracy == pytest.approx(card["metrics"]["validation_accuracy"], abs=1e-9)
    assert accuracy > 0.9


def test_model_card(trained_job, digits_channels: Path) -> None:
    card = json.loads((trained_job.model_dir / "model_card.json").read_text())
    assert set(card) == {"format", "created_at", "training_job_name", "git_revision", "framework_versions", "model",
                         "hyperparameters", "metrics", "history", "data", "schema", "training"}
    assert card["framework_versions"] == {"torch": torch.__version__, "python": platform.python_version()}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True)
    assert card["git_revision"] == head.stdout.strip() and re.fullmatch(r"[0-9a-f]{40}", card["git_revision"])
    assert card["training_job_name"] is None and card["training"] == {"world_size": 1, "device": "cpu"}
    assert card["hyperparameters"]["epochs"] == 6 and card["hyperparameters"]["hidden_sizes"] == [64, 32]
    assert set(card["metrics"]) == {"train_loss", "train_accuracy", "validation_loss", "validation_accuracy"}
    assert len(card["history"]) == 6 and card["history"][-1] == card["metrics"]
    files = {f["path"]: f["sha256"] for f in card["data"]["files"]}
    for path, sha in files.items():
        assert hashlib.sha256((digits_channels / path).read_bytes()).hexdigest() == sha
    manifest = "".join(f"{files[p]}  {p}\n" for p in sorted(files))
    assert card["data"]["sha256"] == hashlib.sha256(manifest.encode()).hexdigest()
    assert card["data"]["rows"] == {"train": 1437, "validation": 360}
    assert card["schema"]["label"] == {"name": "label", "classes": list(range(10))}
    assert [f["name"] for f in card["schema"]["features"]] == [f"pixel_{i}" for i in range(64)]
    history = json.loads((trained_job.base / "output" / "data" / "metrics.json").read_text())
    assert history == card["history"]


def test_checkpoint_of_the_last_epoch(trained_job) -> None:
    state = checkpoint.load(trained_job.base / "checkpoints")
    assert state is not None and (state["epoch"], state["step"]) == (6, 0)
    assert not list((trained_job.base / "checkpoints").glob(".*tmp*")), "no temporary files left behind"
    assert not (trained_job.base / "output" / "failure").exists()


def _copy_checkpoint(source: Path, base: Path) -> None:
    (base / "checkpoints").mkdir()
    shutil.copyfile(source / "checkpoints" / "checkpoint.pt", base / "checkpoints" / "checkpoint.pt")


def _run_in_process(base: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(base))
    code = main([])
    failure = base / "output" / "failure"
    return code, failure.read_text() if failure.exists() else ""


def test_bad_hyperparameter_fails_through_the_console_script(base_dir, subprocess_env) -> None:
    base = base_dir({"epochs": "0", "lr": "fast"})
    train = Path(sys.executable).with_name("train")
    result = subprocess.run([str(train), "train"], env=subprocess_env(base), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    reason = (base / "output" / "failure").read_text()
    assert reason.startswith("Invalid hyperparameters: epochs='0': input should be greater than 0; lr='fast'")
    assert reason.count("\n") == 1 and len(reason) < 1024
    assert "Traceback" not in result.stdout + result.stderr and reason.strip() in result.stdout
    assert not (base / "model" / "model.pt").exists()


@pytest.mark.usefixtures("no_launcher_env")
def test_missing_channel_fails(base_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    base = base_dir({"epochs": "1"})
    for leftover in (base / "input" / "data" / "validation").iterdir():
        leftover.unlink()
    (base / "input" / "data" / "validation").rmdir()
    code, reason = _run_in_process(base, monkeypatch)
    assert code == 1 and reason.startswith("Invalid training data: channel 'validation' directory")


@pytest.mark.usefixtures("no_launcher_env")
def test_bad_data_fails(base_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    base = base_dir({"epochs": "1"})
    csv = base / "input" / "data" / "train" / "digits.csv"
    lines = csv.read_text().splitlines()
    lines[5] = lines[5].replace("0,", "oops,", 1)
    csv.write_text("\n".join(lines) + "\n")
    code, reason = _run_in_process(base, monkeypatch)
    assert code == 1 and "digits.csv line 6 column 'pixel_" in reason and "is not a number: 'oops'" in reason


@pytest.mark.usefixtures("no_launcher_env")
def test_divergence_fails_with_advice(base_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    base = base_dir({"epochs": "2", "lr": "1e30", "optimizer": "sgd"})
    code, reason = _run_in_process(base, monkeypatch)
    assert code == 1 and "training diverged" in reason and "try a lower lr" in reason
    assert not (base / "model" / "model.pt").exists()


@pytest.mark.usefixtures("no_launcher_env")
def test_incompatible_checkpoint_is_refused(trained_job, base_dir,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    base = base_dir({"epochs": "7", "lr": "0.01", "hidden_sizes": "64,32", "seed": "7"})
    _copy_checkpoint(trained_job.base, base)
    code, reason = _run_in_process(base, monkeypatch)
    assert code == 1 and reason.startswith("Cannot resume from checkpoint:") and "(lr)" in reason


@pytest.mark.usefixtures("no_launcher_env")
def test_finished_checkpoint_is_exported_without_training(trained_job, base_dir,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    base = base_dir({"epochs": "6", "lr": "0.003", "hidden_sizes": "64,32", "seed": "7"})
    _copy_checkpoint(trained_job.base, base)
    code, reason = _run_in_process(base, monkeypatch)
    assert code == 0, reason
    assert "epochs_done=6 step=0" in capfd.readouterr().out
    resumed = torch.jit.load(str(base / "model" / "model.pt")).state_dict()
    original = torch.jit.load(str(trained_job.model_dir / "model.pt")).state_dict()
    assert all(torch.equal(resumed[k], original[k]) for k in original)


def test_binary_csv_in_a_channel_fails_through_the_console_script(base_dir, subprocess_env) -> None:
    base = base_dir({"epochs": "1"})
    binary = base / "input" / "data" / "train" / "images.csv"
    binary.write_bytes(b"\xff\xd8\xff\xe0 a JPEG named .csv")
    train = Path(sys.executable).with_name("train")
    result = subprocess.run([str(train)], env=subprocess_env(base), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert (base / "output" / "failure").read_text() == (f"Invalid training data: {binary} is not UTF-8 text "
                                                         "(byte 0xff at offset 0); channels hold CSV files in UTF-8.\n")
