"""The `mlp` typer app: each command group is a module of this package with a ``register(app)``.

Adding a group: write ``platform_lib/cli/<group>.py`` with ``def register(app: typer.Typer) -> None``
(adding its commands, or ``app.add_typer(sub_app, name="<group>")``) and name it in ``COMMAND_GROUPS``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

import typer

COMMAND_GROUPS: tuple[str, ...] = (
    "plan",  # mlp plan, mlp stacks
    "train",  # mlp train
    "models",  # mlp register, mlp models list|approve|reject
    "deploy",  # mlp deploy, mlp invoke, mlp status
    "features",  # mlp features list|ingest|get|dataset
    "cost",  # mlp cost
    "promote",  # mlp promote infra|model, mlp rollback
    "pipeline",  # mlp pipeline show|run
)

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="ML platform: plan stacks offline, deliver models.")


def package_version() -> str:
    try:
        return version("ml-platform-blueprint")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "0+unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mlp {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="Print the version and exit."),
) -> None:
    """ML platform command line."""


for _group in COMMAND_GROUPS:
    importlib.import_module(f"{__package__}.{_group}").register(app)
