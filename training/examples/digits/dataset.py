"""Export the example dataset (scikit-learn's bundled 8x8 digits, no download) into channel files.

``python -m training.examples.digits.dataset --out DIR`` writes ``DIR/train/digits.csv`` and
``DIR/validation/digits.csv``: a header ``pixel_0..pixel_63,label`` and one image per row. The
split is stratified and seeded, so the same command always writes byte-identical files. Upload
the two folders to S3 and point the ``train`` and ``validation`` channels at them. Bad usage (``--out``
a file, ``--label-column`` naming a feature column) exits 2 with a one-line message, as argparse does.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

DEFAULT_VALIDATION_FRACTION = 0.2
DEFAULT_SEED = 0
FILE_NAME = "digits.csv"
N_FEATURES = 64  # 8x8 pixels


def split(validation_fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = DEFAULT_SEED):
    """The digits images and labels, split into (train_x, train_y, validation_x, validation_y)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_val, y_train, y_val = train_test_split(
        digits.data.astype(np.int64), digits.target, test_size=validation_fraction,
        random_state=seed, stratify=digits.target,
    )
    return x_train, y_train, x_val, y_val


def feature_names(n_features: int = N_FEATURES) -> list[str]:
    return [f"pixel_{i}" for i in range(n_features)]


def _write(path: Path, features: np.ndarray, labels: np.ndarray, label_column: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*feature_names(features.shape[1]), label_column])
        writer.writerows([*map(int, row), int(label)] for row, label in zip(features, labels, strict=True))


def export(out: Path, validation_fraction: float = DEFAULT_VALIDATION_FRACTION, seed: int = DEFAULT_SEED,
           label_column: str = "label") -> dict[str, Path]:
    """Write the train and validation channel files under ``out``; return their paths by channel.

    ValueError when ``label_column`` is one of the feature columns (the files would have two).
    """
    if label_column in feature_names():
        raise ValueError(f"label column {label_column!r} is also a feature column (pixel_0 .. pixel_{N_FEATURES - 1}); "
                         "choose another name")
    x_train, y_train, x_val, y_val = split(validation_fraction, seed)
    paths = {"train": out / "train" / FILE_NAME, "validation": out / "validation" / FILE_NAME}
    _write(paths["train"], x_train, y_train, label_column)
    _write(paths["validation"], x_val, y_val, label_column)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.examples.digits.dataset",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="directory to create train/ and validation/ in (e.g. $SAGEMAKER_BASE_DIR/input/data)")
    parser.add_argument("--validation-fraction", type=float, default=DEFAULT_VALIDATION_FRACTION)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the split")
    parser.add_argument("--label-column", default="label")
    args = parser.parse_args(argv)
    if not 0 < args.validation_fraction < 1:
        parser.error("--validation-fraction must be between 0 and 1")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give the directory to create train/ and validation/ in")
    try:
        paths = export(args.out, args.validation_fraction, args.seed, args.label_column)
    except ValueError as exc:
        parser.error(f"--label-column: {exc}")
    except OSError as exc:  # e.g. out/train exists as a file, or no permission
        parser.error(f"cannot write the channel files under {args.out}: {exc.strerror}: {exc.filename}")
    for channel, path in paths.items():
        print(f"{channel}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
