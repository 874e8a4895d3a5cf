"""`mlp`: the platform's command line, one module per command group (see ``app.py``).

Kept light: importing this package (e.g. for ``ExitCode``) does not build the app.
"""

from __future__ import annotations

from .exit_codes import ExitCode

__all__ = ["ExitCode", "main"]


def main() -> None:
    """The ``mlp`` console script."""
    from .app import app

    app()
