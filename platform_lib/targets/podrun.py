"""What a Kubernetes pod does that SageMaker would do for it: fetch channels and models, store the model.

Runs inside the platform images (they install this package) with the team's IRSA role:

    python -m platform_lib.targets.podrun fetch --base /opt/ml --channel train=s3://b/p/ --hyperparameters '{...}'
    python -m platform_lib.targets.podrun model --uri s3://b/k/model.tar.gz --into /opt/ml/model
    python -m platform_lib.targets.podrun store --model-dir /opt/ml/model --uri s3://b/models/m/ --kms-key ARN
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from platform_lib import aws, bundle


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def fetch(base: Path, channels: dict[str, str], hyperparameters: dict[str, str]) -> None:
    s3 = aws.session().client("s3")
    for name, uri in channels.items():
        bucket, prefix = _split(uri)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                target = base / "input" / "data" / name / item["Key"][len(prefix):].lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "inputdataconfig.json").write_text(json.dumps({
        c: {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}
        for c in channels}))


def model(uri: str, into: Path) -> None:
    bucket, key = _split(uri)
    bundle.unpack(aws.session().client("s3").get_object(Bucket=bucket, Key=key)["Body"].read(), into)


def store(model_dir: Path, uri: str, kms_key: str) -> str:
    bucket, prefix = _split(uri)
    location, _ = bundle.upload(aws.session().client("s3"), bundle.pack(model_dir, "model"), bucket, prefix, kms_key)
    return location


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m platform_lib.targets.podrun")
    commands = parser.add_subparsers(dest="command", required=True)
    f = commands.add_parser("fetch")
    f.add_argument("--base", type=Path, default=Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")))
    f.add_argument("--channel", action="append", default=[], help="name=s3://bucket/prefix/")
    f.add_argument("--hyperparameters", default="{}")
    m = commands.add_parser("model")
    m.add_argument("--uri", required=True)
    m.add_argument("--into", type=Path, required=True)
    s = commands.add_parser("store")
    s.add_argument("--model-dir", type=Path, required=True)
    s.add_argument("--uri", required=True)
    s.add_argument("--kms-key", required=True)
    args = parser.parse_args(argv)
    if args.command == "fetch":
        fetch(args.base, dict(c.split("=", 1) for c in args.channel), json.loads(args.hyperparameters))
    elif args.command == "model":
        model(args.uri, args.into)
    else:
        print(store(args.model_dir, args.uri, args.kms_key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
