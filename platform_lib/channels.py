"""Training channels: local directories put into the team's curated tier, addressed by their content.

``upload(s3, team, dataset, {"train": dir, "validation": dir})`` puts every file under
``s3://<curated>/datasets/<dataset>/<sha256>/<channel>/`` (SSE-KMS, the data key) and returns the
channel prefixes. The hash covers every channel's files and names, so the same data lands at the same
prefix and is not uploaded again.

``from_features`` builds channels from the feature store first: ``features:GROUP@LABELS`` is the
point-in-time training set of GROUP for the label events in LABELS (``FeatureClient.dataset``: each
label row with the latest feature values at or before its time), written as CSV and uploaded as above.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_lib import outputs
from platform_lib.contract import TeamOutputs

if TYPE_CHECKING:
    from platform_lib.features.client import FeatureClient

FEATURES_SCHEME = "features:"


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


@dataclass(frozen=True)
class FeatureChannel:
    """A channel built from the feature store: the training set of ``group`` for the events in ``labels``."""

    group: str
    labels: Path

    @classmethod
    def parse(cls, spec: str) -> FeatureChannel | None:
        """``features:GROUP@LABELS`` as a FeatureChannel; None for anything else (an S3 prefix)."""
        if not spec.startswith(FEATURES_SCHEME):
            return None
        group, sep, labels = spec.removeprefix(FEATURES_SCHEME).partition("@")
        if not sep or not group or not labels:
            raise outputs.OutputsError(f"{spec!r}: expected features:GROUP@LABELS, e.g. "
                                       f"features:transactions@labels/train.csv")
        return cls(group, Path(labels))


def training_sets(store: FeatureClient, specs: Mapping[str, FeatureChannel], directory: Path,
                  say: Callable[[str], None] = print) -> dict[str, Path]:
    """Build each channel's point-in-time training set with ``store`` into ``directory/<channel>/<group>.csv``.

    Refused when a group is unknown, a label file does not fit its group, or no label row of a channel finds
    features at or before its time (nothing ingested yet?). Also the retraining pipeline's Prepare step
    (``platform_lib.pipeline.prepare``).
    """
    from platform_lib.features.client import StoreDisabledError, UnknownGroupError
    from platform_lib.features.sagemaker import FeatureStoreError
    from platform_lib.features.table import FeatureInputError

    folders = {}
    for channel, spec in specs.items():
        folder = directory / channel
        try:
            report = store.dataset(spec.group, spec.labels, folder / f"{spec.group}.csv")
        except (UnknownGroupError, StoreDisabledError, FeatureInputError, FeatureStoreError, FileNotFoundError,
                ValueError) as exc:
            raise outputs.OutputsError(f"channel {channel} (features:{spec.group}@{spec.labels}): {exc}") from None
        if report.matched == 0:
            raise outputs.OutputsError(
                f"channel {channel}: none of the {report.rows} label rows of {spec.labels} has {spec.group} "
                f"features at or before its time ({store.backend.describe()}); ingest them first")
        say(f"channel {channel}: {report.rows} label rows of {spec.labels}, {report.matched} with {spec.group} "
            f"features at or before their time ({store.backend.name} store)")
        folders[channel] = folder
    return folders


def from_features(s3: Any, team: TeamOutputs, dataset: str, store: FeatureClient,
                  specs: Mapping[str, FeatureChannel], say: Callable[[str], None] = print) -> dict[str, str]:
    """Build each channel's point-in-time training set with ``store`` (``training_sets``) and upload them as
    channels; nothing is uploaded when one of them is refused."""
    with tempfile.TemporaryDirectory(prefix="mlp-features-") as scratch:
        return upload(s3, team, dataset, training_sets(store, specs, Path(scratch), say))
