"""Couriers' check-ins and reports: recording (deduplicated), moderation, retention, reading.

No personal data: a device is a hash of the random id the page keeps; a client address is
hashed with that day's random salt, and salts older than a day are deleted by `prune`, after
which no stored hash can be tied back to an address. A device saying the same thing about the
same station again within `DEDUPE` counts once: the earlier row's id is answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from geo.errors import QueryError
from geo.reports.batch_sql import REPEAT_OF, TABLES, Row, insert_rows, recent_rows
from geo.reports.db import (
    ACTIONS,
    WriteTurn,
    checkins,
    engine_for,
    moderation,
    reports,
    salts,
    utcnow,
    writer,
)
from geo.reports.group_commit import GroupCommit

DEDUPE = timedelta(hours=1)
RETENTION_DAYS = 180


@dataclass(frozen=True)
class _Write:
    """One courier's row waiting for the group commit, and when an equal one is a repeat."""

    table: sa.Table
    row: dict
    since: datetime
    key: int  # the PostgreSQL advisory lock's: one device about one station

    @classmethod
    def of(cls, table: sa.Table, row: dict) -> _Write:
        """On PostgreSQL one device's writes about one station take turns (an advisory lock)
        so the repeat check cannot race; SQLite's writes hold the database lock."""
        key = int(token_hash(row["device"] + "\0" + row["station_id"])[:15], 16)
        return cls(table, row, row["created_at"] - DEDUPE, key)

    @property
    def same(self) -> tuple:
        return tuple(self.row[c] for c in REPEAT_OF[self.table.name])


def _match(writes: list[_Write], mine: list[int], stored: list[Row], out: list) -> list[int]:
    """Which of one table's writes are new (their positions in `writes`), filling `out` for
    the rest: (id, False) for a repeat of a stored row, or the position in the new rows of
    the one it repeats (a repeat within the batch, answered once the INSERT gives its id)."""
    earlier: dict[tuple, list] = {}
    for row in stored:
        earlier.setdefault(tuple(row[2:]), []).append(row)
    first, new = {}, []
    for i in mine:
        w = writes[i]
        old = next((rid for rid, at, *_ in earlier.get(w.same, ()) if at > w.since), None)
        pos = first.get(w.same)
        if old is not None:
            out[i] = (old, False)
        elif pos is not None and writes[new[pos]].row["created_at"] > w.since:
            out[i] = pos
        else:
            first[w.same] = out[i] = len(new)
            new.append(i)
    return new


def apply_writes(conn: sa.Connection, writes: list[_Write]) -> list[tuple[int, bool]]:
    """A batch's writes in a few statements: (id, inserted) for each. A write repeats a row
    stored within DEDUPE or one earlier in the same batch; the rest go in one INSERT a table."""
    groups = {name: [i for i, w in enumerate(writes) if w.table.name == name]
              for name in TABLES}
    groups = {name: mine for name, mine in groups.items() if mine}
    stored = recent_rows(conn, {name: (sorted({writes[i].row["device"] for i in mine}),
                                       min(writes[i].since for i in mine))
                                for name, mine in groups.items()},
                         keys=sorted({w.key for w in writes}))
    out: list = [None] * len(writes)
    new = {name: _match(writes, mine, stored[name], out) for name, mine in groups.items()}
    ids = insert_rows(conn, {name: [writes[i].row for i in idx]
                             for name, idx in new.items() if idx}, commit=True)
    for name, mine in groups.items():
        for i in mine:
            if isinstance(out[i], int):  # a position in the new rows: inserted, or a repeat
                out[i] = (ids[name][out[i]], new[name][out[i]] == i)
    return out


def token_hash(text: str) -> str:
    """A stable 128-bit hash: devices are compared, never stored as sent."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Report:
    """One courier report as the API and CLI accept it (already validated)."""

    kind: str
    amenity: str | None = None
    note: str | None = None


class ReportStore:
    """The reports database behind one URL. Engines are made per process, so a server that
    forks workers after loading never shares a connection across processes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None
        self._pid = 0
        self._salts: dict[str, str] = {}
        self._turn = WriteTurn(url)
        self._writer: sa.Connection | None = None  # the group commit's, kept open
        self._writer_pid = 0
        self._writer_lock = threading.Lock()
        self._group = GroupCommit(self.batch_transaction, apply_writes)

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None or self._pid != os.getpid():
            self._engine, self._pid = engine_for(self.url), os.getpid()
        return self._engine

    def dispose(self) -> None:
        with self._writer_lock:
            self._drop_writer()
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
        self._engine = None

    @contextmanager
    def batch_transaction(self) -> Iterator[sa.Connection]:
        """The group commit's transaction, taken in turn with other processes' (SQLite), on
        the writer's own connection: a pool checkout per batch (and PostgreSQL's ping on
        checkout) cost a third of the write path. A batch that fails drops the connection,
        so the next one starts on a fresh one (a restarted database is found that way)."""
        with self._writer_lock, self._turn():
            if self._writer is None or self._writer_pid != os.getpid():
                self._writer, self._writer_pid = writer(self.engine).connect(), os.getpid()
            try:
                with self._writer.begin():
                    yield self._writer
            except Exception:
                self._drop_writer()
                raise

    def _drop_writer(self) -> None:
        if self._writer is not None and self._writer_pid == os.getpid():
            with contextlib.suppress(Exception):
                self._writer.close()
        self._writer = None

    def _writing(self):
        """A write transaction of its own (moderation, pruning: rare, not batched)."""
        return writer(self.engine).begin()

    # ---- who --------------------------------------------------------------------------------

    def day_salt(self, day: str) -> str:
        """Today's salt, made by whichever process asks first (shared through the database)."""
        if day in self._salts:
            return self._salts[day]

        def stored() -> str | None:
            with self.engine.connect() as conn:
                return conn.execute(sa.select(salts.c.salt).where(salts.c.day == day)).scalar()

        found = stored()
        if found is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(salts.insert().values(day=day, salt=os.urandom(24).hex()))
            except sa.exc.IntegrityError:
                pass  # another process made it first: read theirs
            found = stored()
        self._salts = {day: found}  # only today's is ever needed
        return found

    def client_hash(self, address: str, now: datetime) -> str:
        """The address, hashed with the day's salt."""
        return token_hash(self.day_salt(now.date().isoformat()) + address)

    # ---- writes ------------------------------------------------------------------------------

    def checkin(self, station_id: str, device: str, address: str,
                now: datetime | None = None) -> tuple[int, bool]:
        """Record "I was here"; (id, False) when the device checked in here within the hour."""
        return self._group.submit(self.checkin_write(station_id, device, address, now))

    def report(self, station_id: str, report: Report, in_hours: bool, device: str,
               address: str, now: datetime | None = None) -> tuple[int, bool]:
        """Record a problem; (id, False) when the device said the same here within the hour."""
        return self._group.submit(self.report_write(station_id, report, in_hours, device,
                                                    address, now))

    def checkin_write(self, station_id: str, device: str, address: str,
                      now: datetime | None = None) -> _Write:
        """A check-in as the group commit takes it."""
        now = now or utcnow()
        return _Write.of(checkins, {
            "station_id": station_id, "device": token_hash(device),
            "client": self.client_hash(address, now), "created_at": now})

    def report_write(self, station_id: str, report: Report, in_hours: bool, device: str,
                     address: str, now: datetime | None = None) -> _Write:
        """A report as the group commit takes it."""
        now = now or utcnow()
        return _Write.of(reports, {
            "station_id": station_id, "kind": report.kind, "amenity": report.amenity,
            "note": report.note, "note_status": "pending" if report.note else None,
            "in_hours": bool(in_hours), "resolved_at": None, "device": token_hash(device),
            "client": self.client_hash(address, now), "created_at": now})

    def moderate(self, report_id: int, action: str, actor: str,
                 now: datetime | None = None) -> None:
        """Approve or hide a report's note, or mark its problem resolved; logged."""
        if action not in ACTIONS:
            raise QueryError("action", f"action must be one of {', '.join(ACTIONS)}")
        now = now or utcnow()
        change = ({"note_status": "approved"} if action == "approve"
                  else {"note_status": "hidden"} if action == "hide"
                  else {"resolved_at": now})
        with self._writing() as conn:
            row = conn.execute(sa.select(reports.c.note).where(reports.c.id == report_id)).first()
            if row is None:
                raise QueryError("report", f"no report with id {report_id}")
            if action in ("approve", "hide") and not row.note:
                raise QueryError("action", f"report {report_id} has no note to {action}")
            conn.execute(reports.update().where(reports.c.id == report_id).values(**change))
            conn.execute(moderation.insert().values(report_id=report_id, action=action,
                                                    actor=actor[:64], created_at=now))

    def prune(self, days: int = RETENTION_DAYS, now: datetime | None = None) -> dict[str, int]:
        """Delete reports and check-ins older than `days`, and every salt but today's."""
        now = now or utcnow()
        cutoff = now - timedelta(days=days)
        with self._writing() as conn:
            old = sa.select(reports.c.id).where(reports.c.created_at < cutoff)
            gone_actions = conn.execute(moderation.delete().where(
                moderation.c.report_id.in_(old))).rowcount
            gone = {
                "reports": conn.execute(reports.delete().where(
                    reports.c.created_at < cutoff)).rowcount,
                "checkins": conn.execute(checkins.delete().where(
                    checkins.c.created_at < cutoff)).rowcount,
                "moderation_actions": gone_actions,
                "salts": conn.execute(salts.delete().where(
                    salts.c.day < now.date().isoformat())).rowcount,
            }
        self._salts = {}
        return gone

    # ---- reads -------------------------------------------------------------------------------

    def reports_table(self, station_id: str | None = None, since: datetime | None = None,
                      limit: int | None = None, to_do: bool = False) -> pd.DataFrame:
        """Reports, newest first, for the moderation page, the CLI and CSV exports; `to_do`:
        only those a moderator still has to act on (a note to review, a problem open)."""
        q = sa.select(reports.c.id, reports.c.station_id, reports.c.kind, reports.c.amenity,
                      reports.c.note, reports.c.note_status, reports.c.in_hours,
                      reports.c.resolved_at, reports.c.created_at)
        if to_do:
            q = q.where(sa.or_(reports.c.note_status == "pending", sa.and_(
                reports.c.resolved_at.is_(None), reports.c.kind != "other")))
        if station_id is not None:
            q = q.where(reports.c.station_id == station_id)
        if since is not None:
            q = q.where(reports.c.created_at >= since)
        q = q.order_by(reports.c.created_at.desc(), reports.c.id.desc())
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return _frame(conn, q)

    def counts(self, now: datetime, days: int,
               station_ids: list[str] | None = None) -> dict[str, pd.DataFrame]:
        """Per-station tallies for the quality layer, grouped in the database."""
        since = now - timedelta(days=days)
        one = sa.literal(1)

        def within(col, start):
            return sa.func.sum(sa.case((col >= start, one), else_=0))

        ck = sa.select(checkins.c.station_id, within(checkins.c.created_at,
                                                      now - timedelta(days=7)).label("d7"),
                       within(checkins.c.created_at, now - timedelta(days=30)).label("d30"),
                       within(checkins.c.created_at, since).label("window"),
                       sa.func.max(checkins.c.created_at).label("last"))
        live = sa.and_(reports.c.created_at >= since, reports.c.resolved_at.is_(None))
        problem = sa.or_(sa.and_(reports.c.kind == "closed", reports.c.in_hours),
                         reports.c.kind == "not_found")
        rp = sa.select(reports.c.station_id, reports.c.kind, sa.func.count().label("n"),
                       sa.func.sum(sa.case((reports.c.in_hours, one), else_=0)).label("in_hours")
                       ).where(live)
        dv = sa.select(reports.c.station_id,
                       sa.func.count(sa.distinct(reports.c.device)).label("devices"),
                       sa.func.count().label("problems")).where(live, problem)
        nt = sa.select(reports.c.station_id, reports.c.kind, reports.c.note,
                       reports.c.created_at).where(reports.c.note_status == "approved",
                                                   reports.c.created_at >= since)
        if station_ids is not None:
            ck = ck.where(checkins.c.station_id.in_(station_ids))
            rp, dv, nt = (q.where(reports.c.station_id.in_(station_ids)) for q in (rp, dv, nt))
        queries = {"checkins": ck.group_by(checkins.c.station_id),
                   "reports": rp.group_by(reports.c.station_id, reports.c.kind),
                   "problems": dv.group_by(reports.c.station_id),
                   "notes": nt.order_by(reports.c.created_at.desc(), reports.c.id.desc())}
        with self.engine.connect() as conn:
            return {name: _frame(conn, q) for name, q in queries.items()}


def _frame(conn: sa.Connection, q: sa.Select) -> pd.DataFrame:
    """A query's rows as a table, with its columns even when there are no rows."""
    return pd.DataFrame(conn.execute(q).mappings().all(),
                        columns=[c.name for c in q.selected_columns])
