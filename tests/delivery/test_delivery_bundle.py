"""Reproducible bundles, uploaded once, SSE-KMS with the team key."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from platform_lib import bundle, outputs


def _source(root):
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print('hi')\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"junk")
    return root


def test_same_files_same_bytes_whatever_their_times_and_owners(tmp_path):
    first = bundle.pack(_source(tmp_path / "a"))
    copy = _source(tmp_path / "b")
    os.utime(copy / "train.py", (1, 1))
    (copy / "pkg" / "util.py").chmod(0o600)
    second = bundle.pack(copy)
    assert first.data == second.data and first.sha256 == second.sha256
    with tarfile.open(fileobj=io.BytesIO(first.data)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["pkg/util.py", "train.py"]   # sorted files, no __pycache__
    assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {(bundle.FIXED_MTIME, 0, 0, "")}
    (copy / "train.py").write_text("print('changed')\n")
    assert bundle.pack(copy).sha256 != first.sha256


def test_oversize_bundle_is_refused_naming_the_largest_file(tmp_path):
    root = _source(tmp_path / "src")
    (root / "data.csv").write_bytes(b"0" * 3000)
    with pytest.raises(bundle.BundleError, match=r"over the source bundle limit .*largest file: data.csv"):
        bundle.pack(root, limit=2048)


def test_model_without_handler_is_refused(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"x")
    with pytest.raises(bundle.BundleError, match=r"has no code/inference.py"):
        bundle.pack(tmp_path, kind="model")


def test_upload_is_kms_encrypted_content_addressed_and_once(team, tmp_path):
    s3 = team.aws.client("s3")
    bucket, key_arn = outputs.models_location(team.outputs)
    packed = bundle.pack(_source(tmp_path / "src"))
    uri, sent = bundle.upload(s3, packed, bucket, "source/digits", key_arn)
    assert sent and uri == f"s3://{bucket}/source/digits/{packed.sha256}/sourcedir.tar.gz"
    head = s3.head_object(Bucket=bucket, Key=packed.key("source/digits"))
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn
    assert head["Metadata"]["sha256"] == packed.sha256
    again = bundle.pack(_source(tmp_path / "again"))
    assert bundle.upload(s3, again, bucket, "source/digits", key_arn) == (uri, False)
    versions = s3.list_object_versions(Bucket=bucket, Prefix="source/")["Versions"]
    assert len(versions) == 1


def test_unpack_refuses_paths_outside(tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.TarError):
        bundle.unpack(raw.getvalue(), tmp_path / "into")
    assert not (tmp_path / "evil.txt").exists()
