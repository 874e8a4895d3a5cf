"""`serve` / `python -m serving [serve] [--flags]`: start the inference server (see serving/README.md)."""

from __future__ import annotations

import logging.config
import sys

from serving import config, server


def main(argv: list[str] | None = None) -> int:
    """Resolve settings from flags and environment, then serve until SIGTERM; returns the exit code."""
    settings = config.resolve(sys.argv[1:] if argv is None else argv)
    logging.config.dictConfig(server.log_config(settings.log_level))
    return server.run(settings)


if __name__ == "__main__":
    sys.exit(main())
