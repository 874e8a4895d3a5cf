"""``python -m training.examples.digits --epochs 10 ...``: the example's entry point.

The runtime passes the user hyperparameters as ``--name value`` arguments (as the sagemaker-training
toolkit does) and the job's paths as ``SM_*`` variables. Hyperparameters are checked before torch is
imported, so a typo fails in well under a second.
"""

from __future__ import annotations

import sys

from training import contract, hyperparameters, job
from training.signals import StopSignal

from .hyperparameters import parse


def train(argv: list[str], stop: StopSignal) -> None:
    hp = parse(hyperparameters.from_cmd_args(argv))
    env = contract.load_env()
    from .train import run  # import torch only once the job's config is known to be valid

    outcome = run(env, hp, stop)
    job.log.info("training %s after %d epoch(s)", outcome.status, outcome.epoch)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return job.run(lambda stop: train(args, stop))


if __name__ == "__main__":
    raise SystemExit(main())
