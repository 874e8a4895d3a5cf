"""Training channels: local directories put into the team's curated tier, addressed by their content.

``upload(s3, team, dataset, {"train": dir, "validation": dir})`` puts every file under
``s3://<curated>/datasets/<dataset>/<sha256>/<channel>/`` (SSE-KMS, the data key) and returns the
channel prefixes. The hash covers every channel's files and names, so the same data lands at the same
prefix and is not uploaded again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from platform_lib import outputs
from platform_lib.contract import TeamOutputs


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise outputs.OutputsError(f"channel directory {directory} does not exist")
    return sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))


def digest(channels: dict[str, Path]) -> str:
    """SHA-256 over (channel, relative path, file hash) of every file, in sorted order."""
    total = hashlib.sha256()
    for channel in sorted(channels):
        for path in _files(channels[channel]):
            total.update(f"{channel}/{path.relative_to(channels[channel]).as_posix()}\0".encode())
            total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def upload(s3: Any, team: TeamOutputs, dataset: str, channels: dict[str, Path],
           tier: str = "curated") -> dict[str, str]:
    bucket, key_arn = outputs.data_location(team, tier)
    prefix = f"datasets/{dataset}/{digest(channels)}"
    existing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/", MaxKeys=1).get("KeyCount", 0)
    for channel, directory in channels.items():
        if existing:
            break
        for path in _files(directory):
            key = f"{prefix}/{channel}/{path.relative_to(directory).as_posix()}"
            s3.upload_file(str(path), bucket, key,
                           ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn})
    return {channel: f"s3://{bucket}/{prefix}/{channel}/" for channel in channels}
