"""The plan, scenario and access commands and routes: answers, downloads and clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli.main import cli

# one worker asks the shared app these heavy questions, so each is computed once
pytestmark = pytest.mark.xdist_group("api")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="stations")


@pytest.mark.slow  # plans from scratch twice: make test, not make check
def test_cli_plan_json_matches_api(client):
    res = run("plan", "--k", "3", "--json")
    assert res.exit_code == 0, res.output
    cli_sites = json.loads(res.stdout)["sites"]
    api = client.get("/api/plan?type=relay&k=3").get_json()
    assert [s["gain"] for s in cli_sites] == \
        [f["properties"]["gain"] for f in api["sites"]["features"]]
    assert api["after"]["covered"] - api["before"]["covered"] == sum(s["gain"] for s in cli_sites)
    assert api["curve"][0]["covered"] == api["before"]["covered"] and api["sample"] is True


@pytest.mark.slow  # several full plans through the CLI
def test_cli_plan_writes_sites_and_rejects_bad_input(tmp_path):
    out = tmp_path / "sites.geojson"
    res = run("plan", "--k", "2", "--at", "2026-11-24T21:00", "--extend-hours", "--out", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == 2 and doc["features"][0]["properties"]["station_id"]
    for args in (["plan", "--k", "0"], ["plan", "--extend-hours"],
                 ["scenario", "--remove", "nope"], ["scenario", "--add", "1"],
                 ["access", "--max-per-seat", "x"]):
        res = run(*args)
        last = res.output.strip().splitlines()[-1]  # progress lines may come first when slow
        assert res.exit_code == 2 and last.startswith("error:"), (args, res.output)
        assert "Traceback" not in res.output


def test_api_plan_exact_reports_optimality(client):
    body = client.get("/api/plan?type=relay&k=2&exact=1&min_density=3000").get_json()
    assert body["solver"]["method"] == "exact" and body["solver"]["optimal"] is True
    greedy = client.get("/api/plan?type=relay&k=2&min_density=3000").get_json()
    assert body["after"]["covered"] >= greedy["after"]["covered"]


def test_api_plan_post_candidates_and_errors(client):
    pts = [[121.17, 31.15], [121.62, 31.19], [121.47, 31.23]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": p}, "properties": {}}
        for p in pts]}
    body = client.post("/api/plan", json={"type": "relay", "k": 2, "candidates": fc}).get_json()
    got = [f["geometry"]["coordinates"] for f in body["sites"]["features"]]
    assert all(p in pts for p in got) and body["candidates"] == "file"
    for bad in ({"k": 0}, {"candidates": {"type": "FeatureCollection", "features": [{}]}},
                {"threshold_m": 30}, {"exact": "maybe"}):
        r = client.post("/api/plan", json=bad)
        assert r.status_code == 400 and r.get_json()["param"], bad
    assert client.post("/api/plan", data="x").status_code == 400
    csv = client.get("/api/plan?type=relay&k=2&format=csv")
    assert csv.status_code == 200 and b"SAMPLE" in csv.data


def test_api_scenario_and_access(client):
    r = client.post("/api/scenario", json={"type": "relay", "remove": ["relay-0001"],
                                           "hours": {"relay-0002": "24/7"}})
    body = r.get_json()
    assert r.status_code == 200 and body["delta"]["covered"] <= 0
    assert body["gaps"]["features"][0]["properties"]["rank"] == 1
    assert client.post("/api/scenario", json={"hours": {"relay-0002": "soon"}}).status_code \
        == 400
    acc = client.get("/api/access?type=relay").get_json()
    p = acc["features"][0]["properties"]
    assert p["workers_per_seat"] == round(p["workers_in_reach"] / p["capacity"], 1)
    assert acc["summary"]["overloaded"] == sum(f["properties"]["overloaded"]
                                               for f in acc["features"])
    assert client.get("/api/access?decay=cubic").status_code == 400


def test_hours_with_the_same_open_stations_share_one_answer(app, client):
    """10:00 and 10:30 on a Tuesday open the same stations: one computation, two labels."""
    from app.api.coverage import coverage_for
    from geo.questions import parse_coverage

    with app.app_context():
        a = coverage_for(parse_coverage("relay", "1000", "2026-11-24T10:00"))
        b = coverage_for(parse_coverage("relay", "1000", "2026-11-24T10:30"))
        night = coverage_for(parse_coverage("relay", "1000", "2026-11-24T21:00"))
        assert a.distance_m is b.distance_m and a.zones() is b.zones()
        assert (a.spec.at.hour, a.spec.at.minute, b.spec.at.minute) == (10, 0, 30)
        assert night.distance_m is not a.distance_m
        assert night.summary()["covered"] < a.summary()["covered"]
    body = client.get("/api/coverage?type=relay&at=2026-11-24T10:30").get_json()
    assert body["at"].startswith("2026-11-24T10:30")


@pytest.mark.slow  # two full plans
def test_keep_open_is_shown_beside_new_sites(client):
    q = "/api/plan?type=relay&k=3&at=2026-11-24T21:00"
    keep = client.get(q + "&candidates=extend_hours").get_json()
    new = client.get(q).get_json()
    assert all(f["properties"]["station_id"] for f in keep["sites"]["features"])
    alt = keep["new_sites_instead"]
    assert alt["k"] == 3
    assert alt["gain"] == sum(f["properties"]["gain"] for f in new["sites"]["features"])


def test_a_plan_too_large_to_hold_is_a_400_naming_the_threshold(client):
    """Found by fuzzing: fitness at 18 km with every cell a candidate pairs 162 million
    site-cell pairs, and the pair table ran out of memory (a 500). Counted first, refused."""
    r = client.get("/api/plan?type=fitness&threshold_m=18000&k=2")
    assert r.status_code == 400 and r.get_json()["param"] == "threshold_m"
    assert "limit" in r.get_json()["error"]


def test_straight_sets_refuse_more_pairs_than_the_limit(monkeypatch):
    import numpy as np

    from geo.errors import QueryError
    from geo.index import coverage_sets

    lon, lat = np.array([121.0, 121.001]), np.array([31.0, 31.0])
    assert coverage_sets.straight_sets(lon, lat, lon, lat, 500.0).n_targets == 2  # 4 pairs
    monkeypatch.setattr(coverage_sets, "MAX_PAIRS", 3)
    with pytest.raises(QueryError) as err:
        coverage_sets.straight_sets(lon, lat, lon, lat, 500.0)
    assert err.value.param == "threshold_m" and "4 sites" in str(err.value)
