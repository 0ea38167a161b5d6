"""A group-commit batch's statements: the stored rows it may repeat, then its new rows.

On SQLite they run through SQLAlchemy one at a time (SQLite is in the process: a statement
costs no round trip). On PostgreSQL a batch was six round trips (the advisory locks, then
for each table its recent rows and its INSERT) and the commit, and a server's threads
waited on them in turn: writes ran at 40 % of a bare INSERT app. Here a batch is two round
trips (the locks with the repeat queries; the INSERTs with the COMMIT), each step's
statements sent together in a psycopg pipeline, and no statement's text depends on the
batch's size (arrays, not lists of placeholders), so the driver prepares each once instead
of parsing a new statement every batch. Under load a batch still took three times as long
as alone, waiting for a CPU more than for the database.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from geo.reports.db import checkins, reports

TABLES = {t.name: t for t in (checkins, reports)}
REPEAT_OF = {"checkins": ("device", "station_id"),
             "reports": ("device", "station_id", "kind", "amenity")}  # what makes a repeat
ADVISORY = ("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(%(ks)s AS bigint[])) AS k "
            "ORDER BY k")  # in key order, so two processes' batches cannot deadlock
Row = tuple  # (id, created_at, *REPEAT_OF[table])


def _recent_query(table: sa.Table, postgresql: bool) -> sa.Select:
    """Rows of `table` by some devices since a time, oldest first."""
    devices = (table.c.device == sa.any_(sa.bindparam("devices", type_=ARRAY(sa.String)))
               if postgresql else table.c.device.in_(sa.bindparam("devices", expanding=True)))
    return sa.select(table.c.id, table.c.created_at,
                     *[table.c[c] for c in REPEAT_OF[table.name]]).where(
        devices, table.c.created_at > sa.bindparam("since")).order_by(table.c.id)


def _insert_arrays(table: sa.Table) -> sa.Insert:
    """Many rows from one array a column. They go in in their order, so their ids (drawn
    from one sequence, row by row) ascend in it."""
    cols = [c.name for c in table.c if c.name != "id"]
    rows = sa.func.unnest(*[sa.cast(sa.bindparam(c), ARRAY(table.c[c].type)) for c in cols]
                          ).table_valued(*cols, with_ordinality="n").render_derived()
    return table.insert().from_select(
        cols, sa.select(*[rows.c[c] for c in cols]).order_by(rows.c.n)).returning(table.c.id)


_RECENT = {name: _recent_query(t, postgresql=False) for name, t in TABLES.items()}
_INSERT = {name: t.insert().returning(t.c.id, sort_by_parameter_order=True)
           for name, t in TABLES.items()}
_PG_STEPS = {"recent": lambda t: _recent_query(t, postgresql=True), "insert": _insert_arrays}
_PG_SQL: dict[tuple[str, str], str] = {}  # (step, table) -> its text for psycopg


def _pg_sql(conn: sa.Connection, step: str, table: str) -> str:
    """The PostgreSQL text of a step's statement for a table, compiled once."""
    if (step, table) not in _PG_SQL:
        stmt = _PG_STEPS[step](TABLES[table])
        _PG_SQL[step, table] = str(stmt.compile(dialect=conn.dialect))
    return _PG_SQL[step, table]


def _pipelined(conn: sa.Connection, statements: list[tuple[str, dict]],
               commit: bool = False) -> list[list[Row]]:
    """Run statements in one round trip, in the connection's transaction, and the COMMIT
    with them if asked: their rows. A driver error comes out as SQLAlchemy's, marked when
    the connection is gone (so the group commit runs the batch again on a fresh one)."""
    import psycopg

    pg = conn.connection.driver_connection
    try:
        with pg.pipeline():  # leaving it sends them all and waits for every answer
            cursors = [pg.execute(sql, params, prepare=True) for sql, params in statements]
            if commit:  # SQLAlchemy's own COMMIT afterwards finds nothing left to do
                pg.commit()
        return [cur.fetchall() for cur in cursors]
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(
            statements[0][0] if statements else "COMMIT", None, exc, psycopg.Error,
            connection_invalidated=pg.closed or pg.broken) from exc


def recent_rows(conn: sa.Connection, asks: dict[str, tuple[list[str], datetime]],
                keys: list[int]) -> dict[str, list[Row]]:
    """For each table, the stored rows of some devices since a time, oldest first; on
    PostgreSQL once the batch's advisory locks are held (each statement there sees what was
    committed before it began, so the rows come in a statement after the locks)."""
    params = {name: {"devices": devices, "since": since}
              for name, (devices, since) in asks.items()}
    if conn.dialect.name != "postgresql":
        return {name: [tuple(r) for r in conn.execute(_RECENT[name], p)]
                for name, p in params.items()}
    found = _pipelined(conn, [(ADVISORY, {"ks": keys}), *[
        (_pg_sql(conn, "recent", name), p) for name, p in params.items()]])
    return dict(zip(params, found[1:], strict=True))


def insert_rows(conn: sa.Connection, rows: dict[str, list[dict]],
                commit: bool = False) -> dict[str, list[int]]:
    """Store each table's rows, one statement a table; their ids, in their order. With
    `commit`, the batch is over: on PostgreSQL its COMMIT goes in the same round trip."""
    if conn.dialect.name != "postgresql":
        return {name: conn.execute(_INSERT[name], new).scalars().all()
                for name, new in rows.items()}
    columns = {name: {c.name: [r[c.name] for r in new] for c in TABLES[name].c if c.name != "id"}
               for name, new in rows.items()}
    ids = _pipelined(conn, [(_pg_sql(conn, "insert", name), cols)
                            for name, cols in columns.items()], commit=commit)
    return {name: sorted(i for (i,) in got) for name, got in zip(columns, ids, strict=True)}
