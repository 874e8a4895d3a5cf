"""The runtime runs any team's entry point as the sagemaker-training toolkit does: code, arguments, SM_*."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import textwrap
from pathlib import Path

import pytest

from training.__main__ import main

DUMP = """
    import json, os, sys
    env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
    out = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": env}
    os.makedirs(os.environ["SM_MODEL_DIR"], exist_ok=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w") as handle:
        json.dump(out, handle)
"""


def _code(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (directory / name).write_text(textwrap.dedent(source))
    return directory


def _tarball(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, source in files.items():
            data = textwrap.dedent(source).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _run(base: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str] | None = None) -> tuple[int, str]:
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(base))
    code = main(argv or [])
    failure = base / "output" / "failure"
    return code, failure.read_text() if failure.exists() else ""


@pytest.mark.usefixtures("no_launcher_env")
def test_script_gets_the_toolkits_arguments_and_sm_variables(base_dir, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir = _code(tmp_path / "src", {"dump.py": DUMP})
    base = base_dir({"alpha": "0.5", "k": "2", "layers": "[3, 4]", "name": '"x"', "sagemaker_program": '"dump.py"',
                     "sagemaker_submit_directory": json.dumps(str(code_dir)), "_tuning_objective_metric": "m"})
    code, reason = _run(base, monkeypatch)
    assert code == 0, reason
    seen = json.loads((base / "model" / "seen.json").read_text())
    assert seen["argv"] == ["--alpha", "0.5", "-k", "2", "--layers", "[3, 4]", "--name", "x"]
    assert seen["cwd"] == str(code_dir)
    env = seen["env"]
    data = base / "input" / "data"
    assert {k: env[k] for k in ("SM_HPS", "SM_HP_ALPHA", "SM_HP_LAYERS", "SM_HP_NAME", "SM_CHANNELS",
                                "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_MODEL_DIR", "SM_OUTPUT_DIR",
                                "SM_OUTPUT_DATA_DIR", "SM_HOSTS", "SM_CURRENT_HOST", "SM_NUM_GPUS",
                                "SM_USER_ENTRY_POINT", "SM_MODULE_DIR", "SM_USER_ARGS")} == {
        "SM_HPS": '{"alpha":0.5,"k":2,"layers":[3,4],"name":"x"}',
        "SM_HP_ALPHA": "0.5", "SM_HP_LAYERS": "[3,4]", "SM_HP_NAME": "x",
        "SM_CHANNELS": '["train","validation"]',
        "SM_CHANNEL_TRAIN": str(data / "train"), "SM_CHANNEL_VALIDATION": str(data / "validation"),
        "SM_MODEL_DIR": str(base / "model"), "SM_OUTPUT_DIR": str(base / "output"),
        "SM_OUTPUT_DATA_DIR": str(base / "output" / "data"),
        "SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1", "SM_NUM_GPUS": "0",
        "SM_USER_ENTRY_POINT": "dump.py", "SM_MODULE_DIR": str(code_dir),
        "SM_USER_ARGS": '["--alpha","0.5","-k","2","--layers","[3, 4]","--name","x"]',
    }
    assert json.loads(env["SM_TRAINING_ENV"])["hps"] == {"alpha": 0.5, "k": 2, "layers": [3, 4], "name": "x"}
    assert json.loads(env["SM_INPUT_DATA_CONFIG"])["train"] == {
        "ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}


@pytest.mark.usefixtures("no_launcher_env")
def test_module_from_a_tarball_named_on_the_command_line(base_dir, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _tarball(tmp_path / "sourcedir.tar.gz", {"trainer/__init__.py": "", "trainer/__main__.py": DUMP})
    base = base_dir({"epochs": "3"})
    code, reason = _run(base, monkeypatch, ["train", "--entry-point", "trainer", "--submit-dir", str(archive)])
    assert code == 0, reason
    seen = json.loads((base / "model" / "seen.json").read_text())
    assert seen["argv"] == ["--epochs", "3"] and seen["cwd"] == str(base / "code")
    assert (base / "code" / "trainer" / "__main__.py").is_file()


@pytest.mark.usefixtures("no_launcher_env")
def test_submit_directory_from_s3(base_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "eu-west-1", "S3_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="code", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.upload_file(str(_tarball(tmp_path / "src.tar.gz", {"dump.py": DUMP})), "code", "job/sourcedir.tar.gz")
        base = base_dir({"sagemaker_program": '"dump.py"',
                         "sagemaker_submit_directory": '"s3://code/job/sourcedir.tar.gz"'})
        code, reason = _run(base, monkeypatch)
    finally:
        server.stop()
    assert code == 0, reason
    assert json.loads((base / "model" / "seen.json").read_text())["cwd"] == str(base / "code")


@pytest.mark.usefixtures("no_launcher_env")
def test_user_code_that_crashes_leaves_its_exit_code_and_stderr(base_dir, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir = _code(tmp_path / "src", {"fail.py": "print('starting')\nraise RuntimeError('boom in user code')\n"})
    base = base_dir({})
    code, reason = _run(base, monkeypatch, ["--entry-point", "fail.py", "--submit-dir", str(code_dir)])
    assert code == 2
    assert reason.startswith("Entry point fail.py exited with code 1 without reporting a reason. Last stderr: "
                             "Traceback (most recent call last):")
    assert reason.rstrip().endswith("RuntimeError: boom in user code") and len(reason) <= 1024


@pytest.mark.usefixtures("no_launcher_env")
def test_user_code_reports_invalid_input_through_the_runtime(base_dir, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    code_dir = _code(tmp_path / "src", {"check.py": """
        from training import job
        from training.errors import DataError

        def main(stop):
            raise DataError("train/part-0.csv line 3 has no 'price' column.")

        raise SystemExit(job.run(main))
    """})
    base = base_dir({})
    code, reason = _run(base, monkeypatch, ["--entry-point", "check.py", "--submit-dir", str(code_dir)])
    assert (code, reason) == (1, "Invalid training data: train/part-0.csv line 3 has no 'price' column.\n")


@pytest.mark.usefixtures("no_launcher_env")
@pytest.mark.parametrize(("argv", "expected"), [
    (["serve"], "Invalid command line: train: argument command: invalid choice: 'serve' (choose from 'train') "
                "(usage: train [-h] [--entry-point PROGRAM] [--submit-dir DIR_OR_TARGZ_OR_S3] [{{train}}])\n"),
    (["--entry-point", "nope.py"], "Invalid job configuration: entry point nope.py not found in {base}/code"),
    (["--submit-dir", "/does/not/exist"], "Invalid job configuration: submit directory /does/not/exist does not"),
])
def test_bad_usage_exits_1_with_a_reason(base_dir, monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                         expected: str) -> None:
    base = base_dir({})
    (base / "code").mkdir()
    code, reason = _run(base, monkeypatch, argv)
    assert code == 1 and reason.startswith(expected.format(base=base)), reason


def test_train_serve_through_the_console_script(base_dir, subprocess_env) -> None:
    base = base_dir({})
    result = subprocess.run([str(Path(__import__("sys").executable).with_name("train")), "serve"],
                            env=subprocess_env(base), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert (base / "output" / "failure").read_text().startswith("Invalid command line: train: argument command:")


@pytest.mark.usefixtures("no_launcher_env")
def test_a_failed_run_leaves_no_stale_model(base_dir, monkeypatch: pytest.MonkeyPatch,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    base = base_dir({"epochs": "0"})
    (base / "model" / "code").mkdir(parents=True)
    (base / "model" / "model.pt").write_bytes(b"an earlier run's model")
    (base / "model" / "code" / "inference.py").write_text("# stale\n")
    code, reason = _run(base, monkeypatch)
    assert code == 1 and reason.startswith("Invalid hyperparameters: epochs=")
    assert list((base / "model").iterdir()) == []
    removed = f"removed what an earlier run left in the model dir {base / 'model'}: code, model.pt"
    assert removed in capfd.readouterr().out


@pytest.mark.slow
def test_the_example_ships_as_a_source_bundle(base_dir, subprocess_env, train_command) -> None:
    examples = Path(__file__).resolve().parents[2] / "training" / "examples"
    base = base_dir({"epochs": "1", "sagemaker_program": '"digits"',
                     "sagemaker_submit_directory": json.dumps(str(examples))})
    result = subprocess.run(train_command, env=subprocess_env(base), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running module -m digits --epochs 1" in result.stdout
    assert sorted(p.name for p in (base / "model").iterdir()) == ["code", "model.pt", "model_card.json"]
