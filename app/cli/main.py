"""The `stations` console script: the group with every command module registered on it."""

from __future__ import annotations

from app.cli import analysis, data, demand, national, reports, serve  # noqa: F401 - they register
from app.cli.group import cli


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="stations")
