"""Where couriers' check-ins and reports are kept: the schema, engines and Alembic upgrades.

SQLite by default (WAL, a busy timeout, each write transaction taking the write lock at its
start), any SQLAlchemy URL otherwise (PostgreSQL in production and CI). Station data stays in
the dataset versions: only what couriers say and what moderators do lives here. Times are
naive UTC in every database, so SQLite and PostgreSQL compare them the same way.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event

REPORT_KINDS = ("closed", "hours_wrong", "amenity_missing", "not_found", "other")
NOTE_STATES = ("pending", "approved", "hidden")
ACTIONS = ("approve", "hide", "resolve")
BUSY_TIMEOUT_MS = 30_000
UTC_ZONE = ZoneInfo("UTC")  # stored times, and the --since of commands that read them
HEAD = "0001"  # the newest migration in geo/reports/migrations/versions (a test keeps them equal)

metadata = sa.MetaData()

checkins = sa.Table(
    "checkins", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(64), nullable=False),
    sa.Column("device", sa.String(32), nullable=False),  # a hash of the page's random id
    sa.Column("client", sa.String(32), nullable=False),  # the address, hashed with today's salt
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Index("ix_checkins_station_time", "station_id", "created_at"),
    sa.Index("ix_checkins_device", "device", "station_id", "created_at"),
    sa.Index("ix_checkins_time", "created_at"),
)

reports = sa.Table(
    "reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("amenity", sa.String(20), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    sa.Column("note_status", sa.String(10), nullable=True),  # None when there is no note
    sa.Column("in_hours", sa.Boolean(), nullable=False),  # the station's stated hours said open
    sa.Column("resolved_at", sa.DateTime(), nullable=True),
    sa.Column("device", sa.String(32), nullable=False),
    sa.Column("client", sa.String(32), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Index("ix_reports_station_time", "station_id", "created_at"),
    sa.Index("ix_reports_device", "device", "station_id", "created_at"),
    sa.Index("ix_reports_time", "created_at"),
)

moderation = sa.Table(
    "moderation_actions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)

salts = sa.Table(  # one random salt a day for client addresses; pruned, so old hashes go dark
    "salts", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("salt", sa.String(64), nullable=False),
)


def utcnow() -> datetime:
    """Now as naive UTC, the form every stored time takes."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def default_url(instance: str | Path) -> str:
    """The SQLite file under the app's instance folder, used when STATIONS_DB_URL is unset."""
    Path(instance).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance).resolve() / 'reports.db'}"


def _sqlite_setup(engine: sa.Engine) -> None:
    """WAL and a busy timeout on every connection; writes start with BEGIN IMMEDIATE so two
    writers queue on the lock instead of failing when a read turns into a write."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event issues BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=FULL")  # a 201 is on disk, even across a power cut
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        immediate = conn.get_execution_options().get("immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def engine_for(url: str) -> sa.Engine:
    """An engine for any SQLAlchemy URL; `postgresql://` uses psycopg 3."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                     "check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


class WriteTurn:
    """Writers of one SQLite file, in every process, take turns on a lock file beside it.

    SQLite's own busy handler sleeps in steps growing to 100 ms while another process holds
    the write lock, which capped two busy workers at a few hundred writes a second with
    seconds-long tails; a waiter on this lock is woken by the kernel the moment it is free.
    Anything that skips it (a CLI command, say) still queues on SQLite's lock as before.
    """

    def __init__(self, url: str) -> None:
        path = url.removeprefix("sqlite:///")
        self.path = None if path in ("", ":memory:") or path == url else path + ".writelock"
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        if self._pid != os.getpid():  # a descriptor per process: flock locks are per open
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine, its transactions taking the write lock at once (SQLite)."""
    return engine.execution_options(immediate=True)


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def current_revision(engine: sa.Engine) -> str | None:
    """The schema's Alembic revision, None for an empty database: a plain query, so a server
    that starts on an up-to-date database does not load Alembic at all."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:  # no version table yet
        return None


def is_current(url: str) -> bool:
    """Whether the schema is already at HEAD."""
    engine = engine_for(url)
    try:
        return current_revision(engine) == HEAD
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (creating the database file if needed)."""
    if revision == "head" and is_current(url):
        return
    from alembic import command  # only now: loading Alembic costs a quarter of a second

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_alembic_config(url), revision)


def head_revision(url: str) -> str:
    """The newest revision this code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(url)).get_current_head()
