"""``train`` / ``python -m training``: the container's training entry point.

SageMaker runs ``docker run <image> train``. Exit status 0 when training completed or was stopped
by SIGTERM after checkpointing; 1 with a reason in ``output/failure`` when the job's inputs are
wrong; 2 (reason in ``output/failure``, traceback on stderr) for anything unexpected.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback

from training import contract, hyperparameters, metrics
from training.errors import TrainingError, write_failure
from training.signals import StopSignal

EXIT_OK, EXIT_INVALID, EXIT_BUG = 0, 1, 2

log = logging.getLogger("training")


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def _epilog() -> str:
    rows = "\n".join(f"  {name:<14} {kind:<12} default {default!r:<10} {text}"
                     for name, kind, default, text in hyperparameters.table())
    regexes = "\n".join(f"  {d['Name']:<20} {d['Regex']}" for d in metrics.METRIC_DEFINITIONS)
    return f"hyperparameters (input/config/hyperparameters.json, values as strings):\n{rows}\n\n" \
           f"metric definitions:\n{regexes}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="train", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train the MLP classifier on the SageMaker training contract "
                    "($SAGEMAKER_BASE_DIR, default /opt/ml).", epilog=_epilog())
    parser.add_argument("command", nargs="?", choices=["train"], help="accepted for `docker run IMAGE train`")
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    _configure_logging()
    failure = contract.failure_file(os.environ)
    failure.unlink(missing_ok=True)  # a reason left by an earlier local run would describe the wrong run
    with StopSignal() as stop:
        try:
            env = contract.load_env()
            hp = hyperparameters.parse(env.hyperparameters)
            from training.train import run  # import torch only once the job's config is known to be valid

            outcome = run(env, hp, stop)
        except TrainingError as exc:
            reason = exc.reason()
            code = EXIT_INVALID
        except Exception as exc:  # noqa: BLE001 - last line of defence: always leave a reason behind
            traceback.print_exc()
            reason = " ".join(f"Unexpected error: {type(exc).__name__}: {exc}".split())
            code = EXIT_BUG
        else:
            log.info("training %s after %d epoch(s)", outcome.status, outcome.epoch)
            return EXIT_OK
    rank = os.environ.get("RANK")
    if rank not in (None, "0"):
        reason = f"[rank {rank}] {reason}"
    log.error(reason)
    write_failure(failure, reason)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
