"""The WSGI lane for /api/nearest answers exactly what the Flask view answers, or lets it."""

from __future__ import annotations

import random

import pytest
from werkzeug.test import Client

from app.api.nearest_lane import NearestLane

TYPES = ["", "&type=relay", "&type=health", "&type=fitness"]
EXTRAS = ["", "&amenity=water", "&amenity=water&amenity=toilet", "&k=12", "&k=1",
          "&open_at=2026-11-24T21:30", "&open_at=2026-11-28T08:00", "&out_crs=gcj02",
          "&out_crs=bd09&lang=en", "&crs=gcj02", "&crs=bd09&lang=zh", "&mode=straight",
          "&lat_extra=ignored"]
ENCODINGS = [None, "gzip", "br, gzip", "gzip;q=0", "identity", "br;q=0, gzip;q=0.5"]


@pytest.fixture(scope="module")
def lane(app) -> NearestLane:
    wsgi = app.wsgi_app
    while not isinstance(wsgi, NearestLane):  # under the write lane
        wsgi = wsgi.inner
    return wsgi


class Counting:
    """The Flask side, counting how often the lane handed a request to it."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.inner(environ, start_response)


def both(lane: NearestLane, url: str, headers: dict, method: str = "GET"):
    """The same request through the lane and straight through Flask (and whether the lane
    passed it on). Answers without open_at depend on the minute: asked again if it turned."""
    for _ in range(3):
        counting = Counting(lane.inner)
        a = Client(NearestLane(lane.app, counting)).open(url, method=method, headers=headers)
        b = Client(lane.inner).open(url, method=method, headers=headers)
        if a.status_code != 200 or a.get_data() == b.get_data() or "open_at" in url:
            return a, b, counting.calls
    return a, b, counting.calls


def test_same_status_headers_and_bytes_as_flask(lane):
    rng = random.Random(12)
    for _ in range(120):
        lat, lng = 30.7 + rng.random() * 1.0, 120.9 + rng.random() * 1.1
        url = (f"/api/nearest?lat={lat:.5f}&lng={lng:.5f}" + rng.choice(TYPES)
               + rng.choice(EXTRAS))
        enc = rng.choice(ENCODINGS)
        a, b, passed_on = both(lane, url, {"Accept-Encoding": enc} if enc else {})
        assert passed_on == 0, url  # the lane itself answered
        assert a.status_code == b.status_code == 200
        assert sorted(a.headers.items()) == sorted(b.headers.items()), (url, enc)
        assert a.get_data() == b.get_data(), url


def test_far_away_answer_through_the_lane(lane):
    a, b, passed_on = both(lane, "/api/nearest?lat=40&lng=-74&open_at=2026-11-24T12:00", {})
    assert passed_on == 0 and a.get_data() == b.get_data()
    assert a.get_json()["note_code"] == "far"


@pytest.mark.parametrize("url, status", [
    ("/api/nearest?lat=91&lng=121.4", 400),
    ("/api/nearest?lat=31.2&lat=999&lng=121.4", 400),  # repeated: a rule Flask words
    ("/api/nearest?lat=31.2&lng=121.4&k=%C2%B2", 400),
    ("/api/nearest?lat=31.2&lng=121.4&type=", 400),
    ("/api/nearest?lat=31.2&lng=121.4&mode=walk", 400),  # no graph loaded: Flask says so
    ("/api/nearest?lat=31.2&lng=121.4&x=" + "9" * 5000, 414),
    ("/api/nearest?lat=31.2&lng=121.4&open_at=9999-12-31T23:59-14:00", 400),
])
def test_everything_else_is_flasks(lane, url, status):
    a, b, passed_on = both(lane, url, {})
    assert passed_on == 1
    assert a.status_code == b.status_code == status
    assert a.get_json() == b.get_json() and "error" in a.get_json()


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "POST"])
def test_other_methods_are_flasks(lane, method):
    a, b, passed_on = both(lane, "/api/nearest?lat=31.2&lng=121.4", {}, method)
    assert passed_on == 1 and a.status_code == b.status_code


def test_lane_can_be_switched_off():
    from app import create_app

    app = create_app({"TESTING": True, "STATIONS_TILES": "none",
                      "STATIONS_NEAREST_LANE": False})
    assert not isinstance(app.wsgi_app, NearestLane)
