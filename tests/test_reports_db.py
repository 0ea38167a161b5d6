"""The reports database on SQLite and PostgreSQL: migrations, round trips, dedupe, aggregates
against counts made by hand, moderation, retention and the privacy of addresses."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from geo.errors import QueryError
from geo.reports.db import HEAD, REPORT_KINDS, checkins, engine_for, metadata, reports
from geo.reports.quality import FLAG_DEVICES, quality_table, recent_notes
from geo.reports.store import Report, ReportStore, token_hash

NOW = datetime(2026, 11, 20, 12, 0)


def test_migrations_build_exactly_the_models(db_url):
    """Alembic's schema and the tables the code uses are the same (no drift either way)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from geo.reports.db import head_revision

    assert head_revision(db_url) == HEAD
    engine = engine_for(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_round_trip_and_dedupe_within_the_hour(db_url):
    store = ReportStore(db_url)
    first, new = store.checkin("s1", "device-aaaa", "10.0.0.1", NOW)
    assert new
    assert store.checkin("s1", "device-aaaa", "10.0.0.1", NOW + timedelta(minutes=59)) \
        == (first, False)
    assert store.checkin("s1", "device-aaaa", "10.0.0.1", NOW + timedelta(minutes=61))[1]
    assert store.checkin("s2", "device-aaaa", "10.0.0.1", NOW)[1]  # another station
    assert store.checkin("s1", "device-bbbb", "10.0.0.1", NOW)[1]  # another device

    missing = Report("amenity_missing", "water", "没有热水")
    rid, new = store.report("s1", missing, True, "device-aaaa", "10.0.0.1", NOW)
    assert new
    assert store.report("s1", missing, True, "device-aaaa", "10.0.0.1",
                        NOW + timedelta(minutes=30)) == (rid, False)
    assert store.report("s1", Report("amenity_missing", "microwave"), True, "device-aaaa",
                        "10.0.0.1", NOW)[1]  # another facility is another thing
    assert store.report("s1", Report("closed"), False, "device-aaaa", "10.0.0.1", NOW)[1]
    table = store.reports_table()
    assert len(table) == 3
    row = table[table["id"] == rid].iloc[0]
    assert (row["station_id"], row["kind"], row["amenity"], row["note"], row["note_status"]) \
        == ("s1", "amenity_missing", "water", "没有热水", "pending")
    assert row["created_at"] == NOW
    closed = table[table["kind"] == "closed"].iloc[0]
    assert not closed["in_hours"] and pd.isna(closed["note_status"])
    engine = engine_for(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(checkins)).scalar() == 4
    engine.dispose()
    store.dispose()


def test_no_address_or_device_is_stored_as_sent(db_url):
    store = ReportStore(db_url)
    store.checkin("s1", "device-secret-1", "203.0.113.77", NOW)
    store.report("s1", Report("other", None, "note"), False, "device-secret-1", "203.0.113.77",
                 NOW)
    day2 = NOW + timedelta(days=1)
    store.checkin("s1", "device-secret-1", "203.0.113.77", day2)
    engine = engine_for(db_url)
    with engine.connect() as conn:
        rows = [tuple(r) for t in (checkins, reports) for r in conn.execute(sa.select(t))]
        clients = conn.execute(sa.select(checkins.c.client).order_by(checkins.c.id)).scalars()
        clients = list(clients)
    engine.dispose()
    text = repr(rows)
    assert "203.0.113.77" not in text and "device-secret-1" not in text
    assert token_hash("device-secret-1") in text  # compared by hash
    assert clients[0] != clients[1]  # the salt changed with the day
    store.dispose()


def test_moderation_and_its_log(db_url):
    store = ReportStore(db_url)
    rid, _ = store.report("s1", Report("other", None, "<b>hi</b>"), False, "dev-xxxxxx", "a",
                         NOW)
    bare, _ = store.report("s1", Report("closed"), True, "dev-xxxxxx", "a", NOW)
    store.moderate(rid, "approve", "admin", NOW)
    store.moderate(bare, "resolve", "admin", NOW)
    with pytest.raises(QueryError, match="no note"):
        store.moderate(bare, "approve", "admin", NOW)
    with pytest.raises(QueryError, match="no report"):
        store.moderate(999, "hide", "admin", NOW)
    with pytest.raises(QueryError, match="action"):
        store.moderate(rid, "delete", "admin", NOW)
    table = store.reports_table().set_index("id")
    assert table.loc[rid, "note_status"] == "approved"
    assert table.loc[bare, "resolved_at"] == NOW
    engine = engine_for(db_url)
    with engine.connect() as conn:
        log = conn.execute(sa.text("SELECT report_id, action, actor FROM moderation_actions "
                                   "ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in log] == [(rid, "approve", "admin"), (bare, "resolve", "admin")]
    store.dispose()


def test_prune_keeps_the_retention_and_forgets_old_salts(db_url):
    store = ReportStore(db_url)
    old = NOW - timedelta(days=181)
    kept = NOW - timedelta(days=179)
    store.checkin("s1", "dev-aaaaaa", "a", old)
    store.checkin("s1", "dev-aaaaaa", "a", kept)
    rid, _ = store.report("s1", Report("other", None, "x"), False, "dev-aaaaaa", "a", old)
    store.moderate(rid, "hide", "admin", old)
    store.report("s1", Report("other"), False, "dev-aaaaaa", "a", kept)
    store.checkin("s1", "dev-aaaaaa", "a", NOW)  # today's salt
    gone = store.prune(180, NOW)
    assert gone == {"reports": 1, "checkins": 1, "moderation_actions": 1, "salts": 2}
    assert store.reports_table()["created_at"].tolist() == [kept]
    engine = engine_for(db_url)
    with engine.connect() as conn:
        days = conn.execute(sa.text("SELECT day FROM salts")).scalars().all()
        times = conn.execute(sa.select(checkins.c.created_at)).scalars().all()
    engine.dispose()
    assert days == [NOW.date().isoformat()]
    assert sorted(times) == [kept, NOW]
    store.dispose()


def test_quality_aggregates_equal_counts_by_hand(db_url):
    """Random events over 40 days; every figure recounted with plain loops."""
    rng = np.random.default_rng(7)
    store = ReportStore(db_url)
    stations = [f"s{i}" for i in range(6)]
    devices = [f"device-{i:04d}" for i in range(5)]
    events = []
    for n in range(160):
        at = NOW - timedelta(minutes=int(rng.integers(0, 40 * 24 * 60)))
        sid, dev = stations[rng.integers(0, 6)], devices[rng.integers(0, 5)]
        if rng.random() < 0.15:
            _, new = store.checkin(sid, dev, "a", at)
            if new:
                events.append(("checkin", sid, dev, at, None, False, n))
        else:
            kind = REPORT_KINDS[rng.integers(0, 5)]
            amenity = "water" if kind == "amenity_missing" else None
            in_hours = bool(rng.random() < 0.7)
            rid, new = store.report(sid, Report(kind, amenity), in_hours, dev, "a", at)
            if new:
                events.append((kind, sid, dev, at, rid, in_hours, n))
    resolved = {e[4] for e in events[::9] if e[4] is not None}
    for rid in resolved:
        store.moderate(rid, "resolve", "admin", NOW)
    days = 20
    table = quality_table(np.array([*stations, "nobody"]),
                          store.counts(NOW, days))
    since = NOW - timedelta(days=days)
    for sid in stations:
        mine = [e for e in events if e[1] == sid]
        ck = [e for e in mine if e[0] == "checkin"]
        live = [e for e in mine if e[0] != "checkin" and e[3] >= since and e[4] not in resolved]
        row = table.loc[sid]
        assert row["checkins_7d"] == sum(e[3] >= NOW - timedelta(days=7) for e in ck)
        assert row["checkins_30d"] == sum(e[3] >= NOW - timedelta(days=30) for e in ck)
        assert row["last_checkin"] == max(e[3] for e in ck)
        for kind in REPORT_KINDS:
            assert row[f"reports_{kind}"] == sum(e[0] == kind for e in live), (sid, kind)
        assert row["closed_reports_in_hours"] == sum(e[0] == "closed" and e[5] for e in live)
        problems = [e for e in live if (e[0] == "closed" and e[5]) or e[0] == "not_found"]
        visits = sum(e[3] >= since for e in ck)
        expected = len({e[2] for e in problems}) >= FLAG_DEVICES and len(problems) > visits
        assert row["flagged"] == expected, sid
    assert table.loc["nobody", ["checkins_7d", "reports_closed"]].tolist() == [0, 0]
    assert not table.loc["nobody", "flagged"]
    assert table["flagged"].any() and not table["flagged"].all()  # the data tests both sides
    store.dispose()


def test_only_approved_notes_are_public(db_url):
    store = ReportStore(db_url)
    ids = [store.report("s1", Report("other", None, f"note {i}"), False, f"device-{i:04d}",
                        "a", NOW - timedelta(hours=i))[0] for i in range(5)]
    store.report("s1", Report("other", None, "secret"), False, "device-9999", "a", NOW)
    for rid in ids:
        store.moderate(rid, "approve", "admin", NOW)
    store.moderate(ids[0], "hide", "admin", NOW)
    notes = recent_notes(store.counts(NOW, 30)["notes"])
    assert [n["text"] for n in notes["s1"]] == ["note 1", "note 2", "note 3"]  # newest 3
    store.dispose()


def test_concurrent_writers_lose_nothing_and_race_no_duplicate(db_url):
    store = ReportStore(db_url)
    visits: list[tuple[int, bool]] = []
    repeats: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for n in range(15):
            got = store.checkin(f"s{n % 3}", f"device-{worker:02d}-{n:02d}", "a", NOW)
            same = store.report("s9", Report("closed"), True, "device-racer", "a", NOW)
            with lock:
                visits.append(got)
                repeats.append(same)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    engine = engine_for(db_url)
    with engine.connect() as conn:
        n_checkins = conn.execute(sa.select(sa.func.count()).select_from(checkins)).scalar()
        n_reports = conn.execute(sa.select(sa.func.count()).select_from(reports)).scalar()
    engine.dispose()
    assert n_checkins == 90 and n_reports == 1  # 90 distinct check-ins, one report, 89 repeats
    assert all(new for _, new in visits) and len({rid for rid, _ in visits}) == 90
    assert sum(new for _, new in repeats) == 1 and len({rid for rid, _ in repeats}) == 1
    store.dispose()


def test_a_batch_answers_each_write_as_one_at_a_time_would(db_url):
    """The group commit's batch (one repeat query, one INSERT a table) against the same
    writes made one by one: the same rows stored and the same answers, repeats of stored rows,
    of rows earlier in the batch, and of rows over the hour old (not repeats) included."""
    from geo.reports.store import apply_writes

    rng = np.random.default_rng(11)
    kinds = [None, Report("closed"), Report("closed", "water"), Report("not_found")]
    writes = [(f"s{rng.integers(3)}", f"d{rng.integers(4)}", kinds[rng.integers(4)],
               NOW + timedelta(minutes=int(rng.integers(0, 60) if n < 40 else
                                           rng.integers(60, 150)))) for n in range(120)]
    writes.sort(key=lambda w: w[3])  # the first 40 before the other 80
    store = ReportStore(db_url)

    def made(station, device, report, at):
        return (store.checkin_write(station, device, "a", at) if report is None else
                store.report_write(station, report, True, device, "a", at))

    def stored():
        with store.engine.connect() as conn:
            return [[tuple(r[1:]) for r in conn.execute(
                sa.select(t.c.id, t.c.station_id, t.c.device, t.c.created_at).order_by(t.c.id))]
                for t in (checkins, reports)]

    def by_first(answers):  # new ids as the position of the write that stored them
        ids = [(w[2] is not None, rid, new)
               for w, (rid, new) in zip(writes[40:], answers, strict=True)]
        first = {(t, rid): n for n, (t, rid, new) in enumerate(ids) if new}
        return [(("new", first[t, rid]) if (t, rid) in first else ("stored", t, rid), new)
                for t, rid, new in ids]

    early = writes[:40]  # stored first, one by one, so the batch finds some to repeat
    for w in early:
        store.report(w[0], w[2], True, w[1], "a", w[3]) if w[2] else store.checkin(
            w[0], w[1], "a", w[3])
    one_by_one = [store.report(w[0], w[2], True, w[1], "a", w[3]) if w[2] else
                  store.checkin(w[0], w[1], "a", w[3]) for w in writes[40:]]
    expected_rows = stored()
    store.dispose()
    engine = engine_for(db_url)
    with engine.begin() as conn:
        for t in (checkins, reports):
            conn.execute(t.delete().where(t.c.created_at >= writes[40][3]))
    engine.dispose()
    store = ReportStore(db_url)
    with store.batch_transaction() as conn:
        batched = apply_writes(conn, [made(*w) for w in writes[40:]])
    assert [new for _, new in batched] == [new for _, new in one_by_one]
    assert 0 < sum(new for _, new in batched) < len(batched)  # both kinds of answer
    assert by_first(batched) == by_first(one_by_one)
    assert stored() == expected_rows
    store.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_writes_go_on_after_the_database_drops_the_writers_connection(db_url):
    """The group commit keeps its connection open between batches; when the server ends it
    (a restart, an idle timeout), the next batch runs again on a fresh one: no write fails."""
    store = ReportStore(db_url)
    first = store.checkin("s1", "device-a", "a", NOW)
    pid = store._writer.connection.driver_connection.info.backend_pid
    admin = engine_for(db_url)
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    second = store.checkin("s2", "device-a", "a", NOW)
    assert first[1] and second[1] and second[0] != first[0]
    assert store._writer.connection.driver_connection.info.backend_pid != pid
    assert store.checkin("s2", "device-a", "a", NOW) == (second[0], False)
    store.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_batch_is_the_same_few_prepared_statements_whatever_its_size(db_url):
    """On PostgreSQL a batch's statements keep their text for any number of writes, so the
    server parses and plans each once per connection: the advisory locks, and per table the
    repeat query and the INSERT (a VALUES list or IN list of each batch's length was a new
    statement every batch). Every row lands, ids in the order of the writes."""
    from geo.reports.store import apply_writes

    store = ReportStore(db_url)
    engine = engine_for(db_url)
    with engine.connect() as conn:
        for size in range(1, 9):
            with conn.begin():
                batch = [store.checkin_write(f"c{size}-{n}", f"d{n}", "a", NOW)
                         for n in range(size)]
                batch += [store.report_write(f"r{size}-{n}", Report("closed"), True, f"d{n}",
                                             "a", NOW) for n in range(size)]
                answers = apply_writes(conn, batch)
                assert all(new for _, new in answers)
                for table, part in ((checkins, answers[:size]), (reports, answers[size:])):
                    ids = [rid for rid, _ in part]
                    got = dict(conn.execute(sa.select(table.c.id, table.c.station_id).where(
                        table.c.id.in_(ids))).all())
                    assert [got[i] for i in ids] == [f"{table.name[0]}{size}-{n}"
                                                     for n in range(size)]
        prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements"
                                        ).scalars().all()
    engine.dispose()
    store.dispose()
    assert len(prepared) == 5, prepared
    assert sum("pg_advisory_xact_lock" in s for s in prepared) == 1
    assert sum(s.startswith("INSERT INTO") for s in prepared) == 2
