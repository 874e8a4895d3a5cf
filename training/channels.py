"""Input channels as files: listing them in a stable order and hashing what was read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from training.contract import Channel
from training.errors import DataError


@dataclass(frozen=True)
class FileDigest:
    """One input file as hashed: ``path`` is ``<channel>/<path inside the channel>``."""

    path: str
    sha256: str
    size: int


def manifest_sha256(files: Sequence[FileDigest]) -> str:
    """SHA-256 of the ``sha256sum``-style manifest (``<sha>  <channel>/<path>`` lines, sorted by path).

    Reproduce it with ``(cd input/data && find train validation -type f | LC_ALL=C sort | xargs sha256sum)
    | sha256sum`` (listing the files that were read).
    """
    lines = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def digest(channel: Channel, path: Path) -> FileDigest:
    """The hash of ``path``, a file of ``channel``."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return FileDigest(path=f"{channel.name}/{path.relative_to(channel.path).as_posix()}", sha256=sha.hexdigest(),
                      size=path.stat().st_size)


def files(channel: Channel, pattern: str = "*") -> list[Path]:
    """The files of a channel matching ``pattern``, recursively, in a stable order; hidden ones skipped."""
    if channel.input_mode == "Pipe":
        raise DataError(f"channel '{channel.name}' uses Pipe input mode; this trainer reads files, "
                        "so set TrainingInputMode to File or FastFile.")
    if not channel.path.is_dir():
        raise DataError(f"channel '{channel.name}' directory {channel.path} does not exist.")
    found = sorted(
        (p for p in channel.path.rglob(pattern)
         if p.is_file() and not any(part.startswith(".") for part in p.relative_to(channel.path).parts)),
        key=lambda p: p.relative_to(channel.path).as_posix(),
    )
    if not found:
        raise DataError(f"channel '{channel.name}' ({channel.path}) contains no {pattern} files.")
    return found
