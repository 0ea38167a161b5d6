"""No input makes the API answer 500: every documented parameter gets hostile values."""

from __future__ import annotations

import pytest

# one worker asks the shared app these heavy questions, so each is computed once
pytestmark = pytest.mark.xdist_group("api")

BAD = ["", "x", "-1", "0", "1e309", "-1e309", "nan", "inf", "%00", "\x00", "<script>",
       "'; drop table", "９９", "1,2,3,4,5", "31.2,121.4,31.3,121.5", "2026-13-45T25:61",
       "relay,health", "a" * 3000, "√", "１２１.４"]


def operations(client):
    doc = client.get("/api/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for op in item.values():
            yield path.replace("{station_id}", "relay-0001"), op.get("parameters", [])


SHARDS = 4  # the requests split four ways, so pytest-xdist spreads them over its workers


def hostile_requests(client) -> list[tuple[str, dict, str, str]]:
    """(path, query, parameter, value): every documented query parameter, every bad value."""
    found = []
    for path, params in operations(client):
        query = [p["name"] for p in params if p["in"] == "query"]
        base = {"lat": "31.23", "lng": "121.47"} if path == "/api/nearest" else {}
        if path == "/api/coverage/cells":
            base = {"bbox": "121.46,31.22,121.48,31.24"}
        found += [(path, {**base, name: value}, name, value) for name in query for value in BAD]
    return found


@pytest.mark.slow  # about 20 s of requests in all: make test, not make check
@pytest.mark.parametrize("shard", range(SHARDS))
def test_hostile_values_never_cause_a_server_error(client, shard):
    every = hostile_requests(client)
    assert len(every) > 500
    for path, query, name, value in every[shard::SHARDS]:
        r = client.get(path, query_string=query)
        assert r.status_code < 500, (path, name, value, r.data[:200])
        if r.status_code == 400:
            assert r.get_json()["error"]


@pytest.mark.parametrize("path", ["/", "/planner", "/embed/finder", "/embed/coverage",
                                  "/embed/station/relay-0001", "/oembed"])
def test_pages_survive_hostile_values(client, path):
    for name in ("lat", "lng", "zoom", "type", "amenity", "lang", "k", "tiles", "url",
                 "maxwidth", "threshold_m", "at", "district", "open_now", "crs"):
        for value in BAD:
            r = client.get(path, query_string={name: value})
            assert r.status_code < 500, (path, name, value)
