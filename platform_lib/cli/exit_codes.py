"""The exit codes of `mlp`, one meaning each (CI gates on them)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Done; for plans: every stack compliant (advisory findings allowed)."""
    VIOLATIONS = 1
    """Mandatory policy violations, and nothing else."""
    INVALID = 2
    """Bad usage, invalid config, a failing program, or any other error (the message names the file)."""
