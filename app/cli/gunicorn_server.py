"""`stations serve`: gunicorn with gunicorn.conf.py, run in this process.

The CLI becomes gunicorn's master instead of handing over to the `gunicorn` script, so that
what stops a start (a bad STATIONS_* setting, a missing or malformed data file) reaches the
CLI's one error line and exit status 2, not a traceback printed by gunicorn. The settings are
the same: gunicorn.conf.py alone (never this process's arguments, which are the CLI's).
"""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import Application

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


class Server(Application):
    """gunicorn configured by gunicorn.conf.py; the app built by create_app() in the master
    (preload_app), again on HUP (the config's on_reload)."""

    def init(self, parser, opts, args) -> None:  # gunicorn's hook for command-line apps
        return None

    def load_config(self) -> None:
        self.load_config_from_file(str(CONF))

    def load(self):
        from app import create_app

        return create_app()


def run() -> None:
    """Serve until stopped. What stops the start raises (ValueError family): the app's
    settings and data from create_app() in the master, gunicorn's settings (STATIONS_BIND,
    _WORKERS, _THREADS) checked here first, since gunicorn prints a traceback for an error in
    its config file."""
    from app.config import server

    server()
    Server().run()
