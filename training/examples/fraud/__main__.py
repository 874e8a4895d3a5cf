"""``python -m fraud`` (entry point ``fraud`` of a source bundle of ``training/examples``): the digits
example's tabular classifier with the fraud scorer's defaults; any hyperparameter given overrides them."""

from __future__ import annotations

import sys

from training import hyperparameters, job
from training.examples.digits.__main__ import train

DEFAULTS = {"label_column": "is_fraud", "feature_columns": "amount,count_24h,amount_24h",
            "hidden_sizes": "16", "batch_size": "32"}


def main(argv: list[str] | None = None) -> int:
    given = hyperparameters.from_cmd_args(sys.argv[1:] if argv is None else argv)
    args = [part for name, value in {**DEFAULTS, **given}.items() for part in (f"--{name}", value)]
    return job.run(lambda stop: train(args, stop))


if __name__ == "__main__":
    raise SystemExit(main())
