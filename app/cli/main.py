"""The `stations` console script: the group with every command module registered on it."""

from __future__ import annotations

from app.cli import (  # noqa: F401 - they register their commands
    analysis,
    data,
    demand,
    national,
    reports,
    schedule,
    serve,
)
from app.cli.group import cli


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="stations")
