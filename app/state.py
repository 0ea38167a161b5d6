"""What the views share, read through one module: the atlas and the reports store.

`create_app` puts them in `app.extensions` once; views call these accessors and never import
the `app` package back (it imports them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from geo.atlas import Atlas

if TYPE_CHECKING:  # SQLAlchemy loads with the first app, not with every CLI command
    from geo.reports.store import ReportStore


def current_atlas() -> Atlas:
    """The atlas this app loaded at start-up (every request reads from it)."""
    return current_app.extensions["atlas"]


def store() -> ReportStore:
    """The reports database this app writes to."""
    return current_app.extensions["reports"]


def open_reports(app: Flask) -> ReportStore:
    """The reports database (STATIONS_DB_URL, else SQLite in the instance folder), its schema
    brought up to date before any request unless STATIONS_DB_UPGRADE is off."""
    from geo.reports.db import default_url, upgrade
    from geo.reports.store import ReportStore

    url = app.config.get("STATIONS_DB_URL") or default_url(app.instance_path)
    reports = ReportStore(url)
    if app.config.get("STATIONS_DB_UPGRADE", True):
        upgrade(url)
    return reports
