"""The example dataset export and the channel reader's checks."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from training.contract import Channel
from training.errors import DataError
from training.examples.digits import data, dataset


def _channels(root: Path, **overrides: Channel) -> dict[str, Channel]:
    channels = {name: Channel(name, root / name) for name in ("train", "validation")}
    return {**channels, **overrides}


def test_export_is_deterministic_and_stratified(tmp_path: Path, digits_channels: Path) -> None:
    again = dataset.export(tmp_path)
    for channel, path in again.items():
        assert path.read_bytes() == (digits_channels / channel / dataset.FILE_NAME).read_bytes()
    header, *rows = again["train"].read_text().splitlines()
    assert header.split(",")[0] == "pixel_0" and header.split(",")[-1] == "label" and len(header.split(",")) == 65
    validation_rows = again["validation"].read_text().splitlines()[1:]
    assert len(rows) + len(validation_rows) == 1797 and len(validation_rows) == 360
    per_class = Counter(row.rsplit(",", 1)[1] for row in validation_rows)
    assert per_class == {"0": 36, "1": 36, "2": 35, "3": 37, "4": 36, "5": 37, "6": 36, "7": 36, "8": 35, "9": 36}


def test_load_reads_both_channels(digits_channels: Path) -> None:
    ds = data.load(_channels(digits_channels), "label")
    assert ds.train_x.shape == (1437, 64) and ds.validation_x.shape == (360, 64)
    assert ds.classes == tuple(range(10)) and ds.feature_names[0] == "pixel_0"
    assert ds.train_x.dtype.name == "float32" and ds.train_y.max() == 9


def test_data_hash_is_the_sha256sum_manifest(digits_channels: Path) -> None:
    ds = data.load(_channels(digits_channels), "label")
    lines = "".join(f"{hashlib.sha256((digits_channels / p).read_bytes()).hexdigest()}  {p}\n"
                    for p in ("train/digits.csv", "validation/digits.csv"))
    assert ds.sha256 == hashlib.sha256(lines.encode()).hexdigest()
    assert [f.path for f in ds.files] == ["train/digits.csv", "validation/digits.csv"]


def _write(root: Path, channel: str, text: str, name: str = "part.csv") -> None:
    (root / channel).mkdir(parents=True, exist_ok=True)
    (root / channel / name).write_text(text)


def test_several_files_and_reordered_validation_columns(tmp_path: Path) -> None:
    _write(tmp_path, "train", "a,b,label\n1,2,x\n3,4,y\n", "part-0.csv")
    _write(tmp_path, "train", "a,b,label\n5,6,x\n", "part-1.csv")
    _write(tmp_path, "train", "ignored", ".hidden.csv")
    _write(tmp_path, "validation", "label,b,a\ny,40,30\n")
    ds = data.load(_channels(tmp_path), "label")
    assert ds.classes == ("x", "y") and ds.train_y.tolist() == [0, 1, 0]
    assert ds.validation_x.tolist() == [[30.0, 40.0]] and len(ds.files) == 3


@pytest.mark.parametrize(("train", "validation", "message"), [
    ("a,label\n1,0\n2,1\n", "a,label\n1,7\n", "labels ['7'] that never occur in the train channel"),
    ("a,label\n1,0\nx,1\n", "a,label\n1,0\n", "line 3 column 'a' is not a number: 'x'"),
    ("a,label\n1,0\n2\n", "a,label\n1,0\n", "line 3 has 1 fields, the header has 2"),
    ("a,target\n1,0\n2,1\n", "a,target\n1,0\n", "has no 'label' column"),
    ("a,label\n1,0\ninf,1\n", "a,label\n1,0\n", "line 3 column 'a' is not a finite number"),
    ("a,label\n1,0\n2,0\n", "a,label\n1,0\n", "only one class"),
    ("a,label\n1,0\n2,1\n", "b,label\n1,0\n", "columns differ"),
    ("a,label\n", "a,label\n1,0\n", "no data rows"),
])
def test_bad_data_is_explained(tmp_path: Path, train: str, validation: str, message: str) -> None:
    _write(tmp_path, "train", train)
    _write(tmp_path, "validation", validation)
    with pytest.raises(DataError) as info:
        data.load(_channels(tmp_path), "label")
    assert message in str(info.value)


def test_channel_problems_are_explained(tmp_path: Path, digits_channels: Path) -> None:
    with pytest.raises(DataError, match=r"missing channel\(s\) \['validation'\]"):
        data.load({"train": Channel("train", digits_channels / "train")}, "label")
    with pytest.raises(DataError, match="Pipe input mode"):
        data.load(_channels(digits_channels, train=Channel("train", digits_channels / "train", input_mode="Pipe")),
                  "label")
    with pytest.raises(DataError, match="ContentType 'application/x-parquet'"):
        data.load(_channels(digits_channels, train=Channel("train", digits_channels / "train",
                                                           content_type="application/x-parquet")), "label")
    with pytest.raises(DataError, match="does not exist"):
        data.load(_channels(tmp_path), "label")
    sharded = Channel("train", digits_channels / "train", distribution="ShardedByS3Key")
    assert data.load(_channels(digits_channels, train=sharded), "label", world_size=1).train_x.shape[0] == 1437
    with pytest.raises(DataError, match="FullyReplicated"):
        data.load(_channels(digits_channels, train=sharded), "label", world_size=2)


@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not UTF-8 text (byte 0x89 at offset 0); channels hold CSV files"),
    (b"a,label\n1,\x000\n", "contains NUL bytes at offset 10 (a binary file?); channels hold CSV files in UTF-8."),
])
def test_binary_files_are_explained(tmp_path: Path, content: bytes, message: str) -> None:
    _write(tmp_path, "validation", "a,label\n1,0\n")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part.csv").write_bytes(content)
    with pytest.raises(DataError) as info:
        data.load(_channels(tmp_path), "label")
    assert str(info.value).startswith(f"{tmp_path / 'train' / 'part.csv'} {message}")


def _export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "training.examples.digits.dataset", *args],
                          capture_output=True, text=True, timeout=120)


def test_export_usage_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("")
    (tmp_path / "blocked").mkdir()
    (tmp_path / "blocked" / "train").write_text("")
    prog = "python -m training.examples.digits.dataset: error:"
    for args, message in [
        (["--out", str(a_file)], f"--out {a_file} is a file; give the directory to create train/ and validation/ in"),
        (["--out", str(tmp_path / "blocked")],
         f"cannot write the channel files under {tmp_path / 'blocked'}: File exists: {tmp_path / 'blocked/train'}"),
        (["--out", str(tmp_path / "new"), "--label-column", "pixel_3"],
         "--label-column: label column 'pixel_3' is also a feature column (pixel_0 .. pixel_63); choose another name"),
    ]:
        result = _export(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.splitlines()[-1] == f"{prog} {message}"
    assert not (tmp_path / "new").exists()
