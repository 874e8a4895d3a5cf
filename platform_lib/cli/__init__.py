"""`mlp`: the platform's command line, one module per command group (see ``app.py``).

Kept light: importing this package (e.g. for ``ExitCode``) does not build the app.
"""

from __future__ import annotations

import sys
import traceback

from .exit_codes import ExitCode

__all__ = ["ExitCode", "main"]


def main() -> None:
    """The ``mlp`` console script: any unexpected error is one line and exit 2, never a traceback
    and never exit 1 (which means policy violations to CI)."""
    if sys.argv[1:2] == ["plan"] and not {"--program", "--help"} & set(sys.argv):
        from platform_lib.plan.workers import start_warming

        start_warming()  # the plan workers' imports run on the other core while this one imports the CLI
    from .app import app

    try:
        app(prog_name="mlp")
    except Exception as exc:  # SystemExit (typer.Exit, usage errors) passes through
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"mlp: unexpected error: {type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno})",
              file=sys.stderr)
        sys.exit(int(ExitCode.INVALID))
