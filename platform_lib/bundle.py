"""Reproducible artifacts: source bundles and ``model.tar.gz``, named by their content hash.

The same files always give the same bytes (entries sorted, mtimes, owners and modes fixed, gzip header
without time or name), so the SHA-256 of the archive identifies its content: it is in the S3 key and
the object's metadata, and an archive already uploaded is never uploaded again.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SKIPPED = {"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".venv"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")
SOURCE_LIMIT = 50 * 1024 * 1024          # source code: anything bigger is data that belongs in a channel
MODEL_LIMIT = 5 * 1024 * 1024 * 1024     # a single S3 PUT, and far past what a CPU endpoint loads quickly
FIXED_MTIME = 315532800                  # 1980-01-01, the earliest time zip-based tools accept too
HANDLER = "code/inference.py"


class BundleError(Exception):
    """A directory that cannot become an artifact (missing, too large, missing the handler)."""


@dataclass(frozen=True)
class Bundle:
    kind: str          # "source" or "model"
    data: bytes
    sha256: str
    files: int

    @property
    def file_name(self) -> str:
        return "model.tar.gz" if self.kind == "model" else "sourcedir.tar.gz"

    def key(self, prefix: str) -> str:
        """``<prefix>/<sha256>/<file>``: the content addresses the object."""
        return f"{prefix.strip('/')}/{self.sha256}/{self.file_name}"


def _files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIPPED for part in relative.parts) or path.name.endswith(SKIPPED_SUFFIXES):
            continue
        if path.is_file() or path.is_symlink():
            found.append(path)
    return found


def pack(root: Path, kind: str = "source", limit: int | None = None) -> Bundle:
    """Archive every file under ``root`` (relative paths, sorted) into a reproducible tar.gz."""
    limit = limit if limit is not None else (MODEL_LIMIT if kind == "model" else SOURCE_LIMIT)
    if not root.is_dir():
        raise BundleError(f"{root} is not a directory")
    if kind == "model" and not (root / HANDLER).is_file():
        raise BundleError(f"model directory {root} has no {HANDLER}: the serving container imports its "
                          f"model_fn/input_fn/predict_fn/output_fn hooks from there (training/ writes one)")
    files = _files(root)
    total = sum(p.stat().st_size for p in files if p.is_file())
    if total > limit:
        largest = max(files, key=lambda p: p.stat().st_size if p.is_file() else 0)
        raise BundleError(f"{root} holds {total / 2**20:.1f} MiB, over the {kind} bundle limit of "
                          f"{limit / 2**20:.0f} MiB (largest file: {largest.relative_to(root)}); "
                          f"keep data in S3 channels, not next to the code")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            info = tar.gettarinfo(str(path), arcname=path.relative_to(root).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_MTIME, 0, 0, "", ""
            info.mode = 0o755 if info.mode & 0o111 else 0o644
            info.pax_headers = {}
            if info.isfile():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    data = compressed.getvalue()
    return Bundle(kind, data, hashlib.sha256(data).hexdigest(), len(files))


def upload(s3: Any, bundle: Bundle, bucket: str, prefix: str, kms_key_arn: str,
           tags: dict[str, str] | None = None) -> tuple[str, bool]:
    """Put the bundle at its content address, SSE-KMS with ``kms_key_arn``; (s3 uri, uploaded?).

    An object already at that key has the same content (the key is its hash), so it is not sent again.
    """
    key = bundle.key(prefix)
    uri = f"s3://{bucket}/{key}"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head.get("Metadata", {}).get("sha256") == bundle.sha256:
            return uri, False
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    extra = {"Tagging": urlencode(sorted(tags.items()))} if tags else {}
    s3.put_object(Bucket=bucket, Key=key, Body=bundle.data, ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=kms_key_arn, Metadata={"sha256": bundle.sha256, "kind": bundle.kind},
                  ChecksumAlgorithm="SHA256", **extra)
    return uri, True


def object_request(bucket: str, key: str, kms_key_arn: str, tags: dict[str, str]) -> Any:
    """The upload as the Pulumi resource that would create it, for the policy gate."""
    from platform_lib import guard

    return guard.Request("aws:s3/bucketObjectv2:BucketObjectv2", f"s3://{bucket}/{key}",
                         {"bucket": bucket, "key": key, "serverSideEncryption": "aws:kms", "kmsKeyId": kms_key_arn,
                          "tags": dict(tags)})


def unpack(data: bytes, into: Path) -> None:
    """Extract an archive (e.g. a downloaded ``model.tar.gz``), refusing links and paths outside ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
