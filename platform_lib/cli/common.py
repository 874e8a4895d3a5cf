"""What every command group shares: consoles, the project root, the environment choice, failing."""

from __future__ import annotations

from enum import Enum
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from platform_lib.config.schema import ENVIRONMENTS
from platform_lib.outputs import project_root

from .exit_codes import ExitCode

Environment = Enum("Environment", {name: name for name in ENVIRONMENTS}, type=str)  # type: ignore[misc]
console = Console(width=None if Console().is_terminal else 160)
"""Reports (stdout)."""
err_console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 160)
"""Errors, warnings and progress (stderr): stdout stays parseable."""


__all__ = ["Environment", "Refused", "console", "err_console", "fail", "project_root", "warn"]


class Refused(Exception):
    """Bad input or usage: the message says what and where; `mlp` exits 2."""


def fail(message: str, code: ExitCode = ExitCode.INVALID) -> NoReturn:
    """Print ``message`` (plain text, never markup) in red on stderr and exit with ``code``."""
    err_console.print(escape(message), style="red", soft_wrap=True, highlight=False)
    raise typer.Exit(int(code))


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning[/] {escape(message)}", soft_wrap=True, highlight=False)
