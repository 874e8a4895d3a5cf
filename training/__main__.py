"""``train`` / ``python -m training``: the container's training entry point (the runtime).

SageMaker runs ``docker run <image> train``. The runtime reads the job's contract, empties the model
dir (SageMaker gives every job an empty one), and runs the user's entry point with the toolkit's
``SM_*`` variables and the user hyperparameters as arguments (see :mod:`training.entry_point`).

Exit status: 0 when the entry point succeeded (or stopped after checkpointing on SIGTERM); 1 with a
reason in ``output/failure`` when the job's inputs or the command line are wrong (found by the runtime,
or by user code through :func:`training.job.run`); 2 for anything else, including user code that
crashes: ``output/failure`` then holds its exit code and the last lines of its stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import traceback
from typing import NoReturn

from training import contract, entry_point, hyperparameters, job
from training.contract import TrainingEnv
from training.errors import (
    EXIT_BUG,
    EXIT_INVALID,
    EXIT_OK,
    FAILURE_REASON_LIMIT,
    TrainingError,
    UsageError,
    write_failure,
)
from training.examples.digits.hyperparameters import Hyperparameters
from training.examples.digits.metrics import METRIC_DEFINITIONS

log = job.log


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (usage: {self.format_usage().strip().removeprefix('usage: ')})")


def _epilog() -> str:
    rows = "\n".join(f"  {name:<14} {kind:<12} default {default!r:<10} {text}"
                     for name, kind, default, text in hyperparameters.table(Hyperparameters))
    regexes = "\n".join(f"  {d['Name']:<20} {d['Regex']}" for d in METRIC_DEFINITIONS)
    return ("Without an entry point the built-in example (training.examples.digits, an MLP classifier on the\n"
            "CSV channels train and validation) runs. Its hyperparameters (input/config/hyperparameters.json,\n"
            f"values as strings):\n{rows}\n\nits metric definitions:\n{regexes}\n\n"
            "exit codes: 0 trained (or stopped after checkpointing on SIGTERM), 1 invalid job inputs or\n"
            "command line (reason in output/failure), 2 anything else (reason in output/failure).")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="train", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Run a training entry point on the SageMaker training contract "
                            "($SAGEMAKER_BASE_DIR, default /opt/ml).", epilog=_epilog())
    p.add_argument("command", nargs="?", choices=["train"], help="accepted for `docker run IMAGE train`")
    p.add_argument("--entry-point", metavar="PROGRAM",
                   help="script (x.py, x.sh) or module to run [hyperparameter sagemaker_program, "
                        "$SAGEMAKER_PROGRAM; default: the digits example]")
    p.add_argument("--submit-dir", metavar="DIR_OR_TARGZ_OR_S3",
                   help="the user's code [hyperparameter sagemaker_submit_directory, $SAGEMAKER_SUBMIT_DIRECTORY; "
                        "default $SAGEMAKER_BASE_DIR/code if it exists]")
    return p


def empty_model_dir(env: TrainingEnv) -> None:
    """Remove what an earlier run left in the model dir, so a failed run never leaves a stale model behind.

    Only the first process of a host does it (torchrun starts one runtime per GPU).
    """
    if os.environ.get("LOCAL_RANK", "0") != "0" or not env.model_dir.is_dir():
        return
    leftovers = sorted(env.model_dir.iterdir())
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if leftovers:
        log.warning("removed what an earlier run left in the model dir %s: %s", env.model_dir,
                    ", ".join(p.name for p in leftovers))


def _crash_reason(entry: entry_point.EntryPoint, result: entry_point.Result) -> str:
    code = result.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    head = f"Entry point {entry.program} {how} without reporting a reason."
    tail = " ".join(result.stderr_tail.split())
    if not tail:
        return head
    room = FAILURE_REASON_LIMIT - len(head) - len(" Last stderr: ")
    return f"{head} Last stderr: {tail[-room:] if len(tail) > room else tail}"


def main(argv: list[str] | None = None) -> int:
    job.configure_logging()
    failure = contract.failure_file(os.environ)
    failure.unlink(missing_ok=True)  # a reason left by an earlier local run would describe the wrong run
    try:
        args = parser().parse_args(sys.argv[1:] if argv is None else argv)
        env = contract.load_env()
        entry = entry_point.resolve(env, args.entry_point, args.submit_dir)
        empty_model_dir(env)
        result = entry_point.run(entry, env)
    except TrainingError as exc:
        reason, code = exc.reason(), EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 - last line of defence: always leave a reason behind
        traceback.print_exc()
        reason, code = job.unexpected(exc), EXIT_BUG
    else:
        if result.returncode == EXIT_OK:
            return EXIT_OK
        if failure.exists():  # the entry point reported its own reason (training.job.run does)
            return result.returncode if result.returncode in (EXIT_INVALID, EXIT_BUG) else EXIT_BUG
        reason, code = _crash_reason(entry, result), EXIT_BUG
    log.error(reason)
    write_failure(failure, reason)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
