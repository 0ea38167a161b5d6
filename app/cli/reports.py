"""`stations db upgrade|prune` and `stations reports`: the courier-reports database.

Every command reads STATIONS_DB_URL as the app does (or --db), defaulting to the same SQLite
file in the app's instance folder.
"""

from __future__ import annotations

import sys

import click

from app.cli.group import cli, format_table
from geo.questions import parse_int
from geo.reports.parse import parse_since

DB_OPTION = click.option("--db", "db_url", envvar="STATIONS_DB_URL", default=None,
                         metavar="URL", help="SQLAlchemy URL (default: STATIONS_DB_URL, else "
                                             "SQLite in the app's instance folder).")


def resolve_url(db_url: str | None) -> str:
    """The URL given, else the app's default SQLite file."""
    from flask import Flask

    from geo.reports.db import default_url

    return db_url or default_url(Flask("app").instance_path)


def _store(db_url: str | None):
    from geo.reports.db import is_current
    from geo.reports.store import ReportStore

    url = resolve_url(db_url)
    if not is_current(url):
        raise click.ClickException("the reports database is not at the current schema: run "
                                   "`stations db upgrade` first")
    return ReportStore(url)


@cli.group()
def db() -> None:
    """The courier-reports database: schema upgrades and retention."""


@db.command()
@DB_OPTION
def upgrade(db_url: str | None) -> None:
    """Create or migrate the schema to the newest revision (Alembic)."""
    from geo.reports.db import current_revision, engine_for
    from geo.reports.db import upgrade as run

    url = resolve_url(db_url)
    run(url)
    engine = engine_for(url)
    click.echo(f"reports database at revision {current_revision(engine)}")
    engine.dispose()


@db.command()
@DB_OPTION
@click.option("--days", default=None, metavar="N",
              help="Keep this many days (default: STATIONS_RETENTION_DAYS, else 180).")
def prune(db_url: str | None, days: str | None) -> None:
    """Delete reports and check-ins older than the retention, and old address salts."""
    import os

    keep = parse_int("days", days or os.environ.get("STATIONS_RETENTION_DAYS"), 1, 36500, 180)
    gone = _store(db_url).prune(keep)
    click.echo(f"kept {keep} days; deleted " + ", ".join(f"{n} {k}" for k, n in gone.items()))


@cli.command()
@DB_OPTION
@click.option("--station", default=None, metavar="ID", help="Only this station's reports.")
@click.option("--since", default=None, metavar="DATE",
              help="Only reports made since this date or time (UTC), e.g. 2026-11-01.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout instead of a table.")
def reports(db_url: str | None, station: str | None, since: str | None, as_csv: bool) -> None:
    """Couriers' reports, newest first (notes shown as stored: plain text)."""
    from geo.io.export import csv_bytes

    after = parse_since(since)
    table = _store(db_url).reports_table(station_id=station, since=after)
    if as_csv:
        sys.stdout.buffer.write(csv_bytes(table))
        return
    if table.empty:
        click.echo("no reports")
        return
    shown = table.astype(object).where(table.notna(), "")
    click.echo(format_table(list(shown.columns), shown.to_numpy().tolist()))
