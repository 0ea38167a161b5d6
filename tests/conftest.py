"""Shared fixtures: the embedded atlas is loaded once per test session."""

from __future__ import annotations

import os
import tempfile

import pytest

from geo.atlas import Atlas

# Courier reports go to a database of the test session's own, never a developer's: every app
# the tests create (and every server they start) writes here unless a test names another.
# Under pytest-xdist each worker has its own temp dirs (pytest's), SQLite file, PostgreSQL
# schema and ports (each test asks the kernel for a free one).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ["STATIONS_DB_URL"] = "sqlite:///" + os.path.join(
    tempfile.mkdtemp(prefix=f"stations-reports-{WORKER}-"), "reports.db")
PG_SERVER = os.environ.get("STATIONS_TEST_PG_URL",
                           "postgresql://stations:stations@127.0.0.1:5432/stations_test")
PG_SCHEMA = f"test_{WORKER}"
PG_URL = f"{PG_SERVER}{'&' if '?' in PG_SERVER else '?'}options=-csearch_path%3D{PG_SCHEMA}"


def postgres_url() -> str:
    """This worker's schema on the test PostgreSQL server, emptied: its URL sets the search
    path, so every table the code makes lands there. Skips (visibly) when no server is
    reachable, unless STATIONS_REQUIRE_PG is set, as CI sets it: there it fails instead."""
    import sqlalchemy as sa

    from geo.reports.db import engine_for

    engine = engine_for(PG_SERVER)
    try:
        with engine.begin() as conn:  # every table, whoever left it (a bench run, say)
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    except sa.exc.OperationalError as exc:
        reason = f"no PostgreSQL reachable at {PG_SERVER} ({str(exc).splitlines()[0][:120]})"
        if os.environ.get("STATIONS_REQUIRE_PG"):
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        engine.dispose()
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty reports database at the current schema: SQLite, then PostgreSQL."""
    from geo.reports.db import upgrade

    url = f"sqlite:///{tmp_path / 'reports.db'}" if request.param == "sqlite" else postgres_url()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def atlas() -> Atlas:
    """The embedded Shanghai dataset, as the app loads it."""
    return Atlas.load()


@pytest.fixture(scope="session")
def app():
    """The web app on the embedded dataset, with no tiles (offline)."""
    from app import create_app

    return create_app({"STATIONS_TILES": "none", "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


ARTIFACTS = __import__("pathlib").Path(__file__).parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def live_server():
    """Start the app with a given config on a free local port; returns its base URL."""
    import threading

    from werkzeug.serving import make_server

    from app import create_app

    servers: dict[str, object] = {}

    def start(config: dict | None = None) -> str:
        config = {"STATIONS_TILES": "none", **(config or {})}
        key = repr(sorted(config.items()))
        if key not in servers:  # one server per configuration, shared by the tests
            server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers[key] = server
        return f"http://127.0.0.1:{servers[key].server_port}"

    yield start
    for server in servers.values():
        server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu",
                                     "--disable-background-networking"])
        yield b
        b.close()


class PageWatch:
    """Collects console errors, page errors, failed requests and dialogs of one page."""

    def __init__(self, page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"{r.status}: {r.url}"))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)


@pytest.fixture()
def page_factory(browser):
    """New pages (with their watchers) in fresh contexts, closed after the test."""
    contexts = []

    def make(width: int = 360, height: int = 780, **context_args) -> PageWatch:
        # Playwright's wait_for_function evaluates strings, which the pages' CSP forbids:
        # tests bypass it, except tests/test_browser_csp.py, which checks the policy itself
        context_args.setdefault("bypass_csp", True)
        ctx = browser.new_context(viewport={"width": width, "height": height},
                                  **context_args)
        contexts.append(ctx)
        return PageWatch(ctx.new_page())

    yield make
    for ctx in contexts:
        ctx.close()


BROWSER_FIXTURES = {"browser", "page_factory"}
SERVER_FIXTURES = {"live_server", "dask_client"}  # dask: a scheduler on a port
SERVER_MODULES = {"test_serving", "test_serving_granian",  # they start gunicorn or granian
                  "test_reports_durability", "test_schemathesis_server"}


def pytest_collection_modifyitems(config, items) -> None:
    """Mark what a test needs, so `make check` can leave out Chromium, PostgreSQL and running
    servers: `browser` (drives Chromium), `pg` (the PostgreSQL half of a database test),
    `server` (starts a server: gunicorn, granian or a live app on a port)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if "postgresql" in getattr(getattr(item, "callspec", None), "id", "").split("-"):
            item.add_marker(pytest.mark.pg)
        if names & SERVER_FIXTURES or item.module.__name__.rsplit(".", 1)[-1] in SERVER_MODULES:
            item.add_marker(pytest.mark.server)


@pytest.fixture()
def dataset(tmp_path):
    """A plain dataset directory: the embedded stations (demand falls back to the sample)."""
    import shutil

    from geo.io.datasets import DEFAULT_DATA_DIR

    ds = tmp_path / "ds"
    ds.mkdir()
    shutil.copy(DEFAULT_DATA_DIR / "stations.geojson", ds / "stations.geojson")
    return ds
