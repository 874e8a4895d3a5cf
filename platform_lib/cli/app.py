"""The `mlp` typer app: each command group is a module of this package with a ``register(app)``.

Adding a group: write ``platform_lib/cli/<group>.py`` with ``def register(app: typer.Typer) -> None``
(adding its commands, or ``app.add_typer(sub_app, name="<group>")``) and name it in ``COMMAND_GROUPS``.
"""

from __future__ import annotations

import importlib

import typer

COMMAND_GROUPS: tuple[str, ...] = (
    "plan",  # mlp plan, mlp stacks
)

app = typer.Typer(add_completion=False, no_args_is_help=True, help="ML platform: plan stacks offline, deliver models.")


@app.callback()
def _root() -> None:
    """ML platform command line."""


for _group in COMMAND_GROUPS:
    importlib.import_module(f"{__package__}.{_group}").register(app)
