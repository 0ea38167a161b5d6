"""The WSGI lane for couriers' writes answers exactly what the Flask views answer, or lets them:
the same requests, in the same order, to an app with the lane and to one without, each on its
own empty database, get the same statuses, headers and bytes, and store the same rows."""

from __future__ import annotations

import json
import random

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from app.api.write_lane import WriteLane
from geo.reports.db import checkins, engine_for, reports
from tests.test_nearest_lane import Counting

DEVICES = [f"dev-{n:04d}-aaaaaaaa" for n in range(6)]


def make_app(tmp_path, lane: bool):
    from app import create_app

    db = tmp_path / ("lane.db" if lane else "flask.db")
    return create_app({"TESTING": True, "STATIONS_TILES": "none", "RATELIMIT_ENABLED": True,
                       "STATIONS_DB_URL": f"sqlite:///{db}",
                       "STATIONS_WRITE_LIMIT": "40 per minute",
                       "STATIONS_DEVICE_LIMIT": "6 per minute", "STATIONS_WRITE_LANE": lane})


def requests(atlas, n: int) -> list[tuple[str, dict]]:
    """Writes of every kind a courier's page or a stranger might send, in a seeded order."""
    rng = random.Random(5)
    ids = atlas.stations["id"].tolist()[:4]
    out = []
    for _ in range(n):
        sid, dev = rng.choice(ids), rng.choice(DEVICES)
        kind = rng.choice(["checkins", "reports"])
        body = {"device": dev} if kind == "checkins" else {
            "device": dev, **rng.choice([{"kind": "closed"}, {"kind": "not_found"},
                                         {"kind": "amenity_missing", "amenity": "water"},
                                         {"kind": "other", "note": "门口<b>积水</b>"}])}
        headers = {"Content-Type": "application/json"}
        url = f"/api/stations/{sid}/{kind}"
        data = json.dumps(body, ensure_ascii=False).encode()
        odd = rng.random()
        if odd < 0.05:
            url = "/api/stations/nope/" + kind
        elif odd < 0.10:
            data = b"{not json"
        elif odd < 0.15:
            data = json.dumps({"kind": "closed"}).encode()  # no device
        elif odd < 0.18:
            headers = {"Content-Type": "text/plain"}
        elif odd < 0.21:
            url += "?x=1"
        elif odd < 0.24:
            data = json.dumps({"device": dev, "kind": "nosuch"}).encode()
        out.append((url, {"data": data, "headers": headers}))
    return out


def rows(url: str) -> list[list[tuple]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        got = [[tuple(r) for r in conn.execute(sa.select(
            t.c.id, t.c.station_id, t.c.device).order_by(t.c.id))] for t in (checkins, reports)]
    engine.dispose()
    return got


def test_same_answers_and_rows_as_flask_alone(tmp_path, atlas):
    with_lane, without = make_app(tmp_path, True), make_app(tmp_path, False)
    lane = with_lane.wsgi_app
    assert isinstance(lane, WriteLane) and not isinstance(without.wsgi_app, WriteLane)
    counting = Counting(lane.inner)
    lane.inner = counting
    a_client, b_client = Client(with_lane), Client(without)
    statuses = []
    for url, kw in requests(atlas, 160):
        a = a_client.post(url, **kw)
        b = b_client.post(url, **kw)
        statuses.append(a.status_code)
        assert a.status_code == b.status_code, url
        if a.status_code == 429:  # the seconds left may turn between the two calls
            assert abs(int(a.headers["Retry-After"]) - int(b.headers["Retry-After"])) <= 1
            a.headers.pop("Retry-After")
            b.headers.pop("Retry-After")
        assert sorted(a.headers.items()) == sorted(b.headers.items()), (url, a.get_data())
        assert a.get_data() == b.get_data(), url
    handed_on = counting.calls
    assert {201, 200, 400, 429} <= set(statuses)  # new, repeats, refusals, limits
    assert 0 < handed_on < len(statuses) - statuses.count(201)  # the lane answered the 201s
    assert rows(with_lane.config["STATIONS_DB_URL"]) == rows(without.config["STATIONS_DB_URL"])
    for app in (with_lane, without):
        app.extensions["reports"].dispose()


def test_a_failing_database_is_answered_by_flask_and_nothing_is_lost(tmp_path, atlas,
                                                                      monkeypatch):
    app = make_app(tmp_path, True)
    store = app.extensions["reports"]
    real, calls = store.checkin, []

    def once_down(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "checkin", once_down)
    sid = atlas.stations["id"].iloc[0]
    res = Client(app).post(f"/api/stations/{sid}/checkins", json={"device": DEVICES[0]})
    assert res.status_code == 201 and len(calls) == 2  # the lane failed; Flask stored it
    assert len(rows(app.config["STATIONS_DB_URL"])[0]) == 1
    store.dispose()


@pytest.mark.parametrize("setting", [False, True])
def test_the_lane_is_a_setting(tmp_path, setting):
    app = make_app(tmp_path, setting)
    assert isinstance(app.wsgi_app, WriteLane) is setting
    app.extensions["reports"].dispose()
