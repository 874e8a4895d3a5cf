"""`python -m platform_lib.cli` runs `mlp`."""

from platform_lib.cli import main

main()
