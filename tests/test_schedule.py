"""Opening schedules against brute force, the exact MIP, and the scenario API hour by hour."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli.main import cli
from geo.analysis.coverage import weekday_date
from geo.analysis.schedule import OpeningProblem
from geo.atlas import Atlas
from geo.hours import open_mask
from geo.index.coverage_sets import CoverageSets

DATA = Path(__file__).resolve().parents[1] / "data"
API = pytest.mark.xdist_group("api")  # the API worker's app has the coverage cached


def instance(seed: int, n_cells: int = 12, n_st: int = 3, step: int = 1) -> OpeningProblem:
    """Random workers by hour, stations with random day spans and random reach."""
    rng = np.random.default_rng(seed)
    present = rng.integers(0, 20, (n_cells, 24))
    open_ = np.zeros((n_st, 24), bool)
    for s in range(n_st):
        a = int(rng.integers(5, 12))
        open_[s, a:int(rng.integers(a + 2, 21))] = True
    src, dst = np.nonzero(rng.random((n_st, n_cells)) < 0.4)
    sets = CoverageSets.from_pairs(src, dst, np.zeros(len(src)), n_st, n_cells)
    cover = np.zeros((n_cells, 24), bool)
    for s in range(n_st):
        cover[np.ix_(sets.row(s), np.flatnonzero(open_[s]))] = True
    return OpeningProblem(present, cover, open_, sets, earliest=int(rng.integers(0, 5)),
                          latest=24 - int(rng.integers(0, 3)), step=step)


def brute_force(p: OpeningProblem, budget: int) -> int:
    """The best covered worker-hours over every way to extend every station within budget,
    counted cell by cell and hour by hour from the stations' open hours."""
    ch = p.chains
    best = 0
    for depth in itertools.product(*[range(len(b) + 1) for b in ch.blocks]):
        cost = sum(len(ch.blocks[i][b]) for i, d in enumerate(depth) for b in range(d))
        if cost > budget:
            continue
        open_ = p.open.copy()
        for i, d in enumerate(depth):
            for b in range(d):
                open_[ch.station[i], ch.blocks[i][b]] = True
        total = 0
        for c in range(len(p.present)):
            for h in range(24):
                if any(open_[s, h] and c in p.sets.row(s) for s in range(len(open_))):
                    total += int(p.present[c, h])
        best = max(best, total)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_exact_equals_brute_force_and_greedy_is_feasible(seed):
    p = instance(seed, n_cells=6, n_st=2, step=1 + seed % 2)
    budget = 4
    base = brute_force(p, 0)
    exact = p.solve(budget, exact=True)
    greedy = p.solve(budget)
    assert exact.solver["optimal"] and exact.solver["gap"] == 0.0
    assert base + exact.gain == brute_force(p, budget)
    assert greedy.gain <= exact.gain
    for s in (exact, greedy):
        assert s.added.sum() <= budget
        assert int(s.after.sum() - s.before.sum()) == s.gain
        assert not (s.added & p.open).any()  # only hours the station was closed


@pytest.mark.slow  # 30 MIPs, 8 s alone: make test, not make check
def test_greedy_reaches_097_of_exact_on_30_instances(capsys):
    worst = 1.0
    for seed in range(30):
        p = instance(100 + seed, n_cells=40, n_st=8)
        budget = int(np.random.default_rng(seed).integers(4, 30))
        exact = p.solve(budget, exact=True, time_limit=30)
        assert exact.solver["optimal"], seed
        greedy = p.solve(budget)
        if exact.gain:
            worst = min(worst, greedy.gain / exact.gain)
    with capsys.disabled():
        print(f"\nschedule: greedy / exact, worst of 30 instances: {worst:.4f}")
    assert worst >= 0.97


def test_blocks_stay_next_to_the_opening_and_within_the_window():
    for seed in range(10):
        p = instance(seed, n_cells=20, n_st=5, step=2)
        s = p.solve(12)
        added_any = np.flatnonzero(s.added.any(axis=0))
        assert added_any.min(initial=24) >= p.earliest and added_any.max(initial=0) < p.latest
        for st in range(len(p.open)):
            added = np.flatnonzero(s.added[st])
            if len(added):
                now = np.flatnonzero(p.open[st])
                before, after = added[added < now[0]], added[added > now[-1]]
                assert len(before) + len(after) == len(added)  # never inside the day
                assert len(before) % 2 == 0 and len(after) % 2 == 0  # whole steps
                assert np.all(np.diff(np.concatenate([before, now[:1]])) == 1)
                assert np.all(np.diff(np.concatenate([now[-1:], after])) == 1)


@pytest.fixture(scope="module")
def schedule_answer(app):
    res = app.test_client().get("/api/schedule?type=relay&weekday=tu&budget_hours=25"
                                "&threshold_m=1000")
    assert res.status_code == 200
    return res.get_json()


@API
@pytest.mark.slow  # 24 scenarios over all of Shanghai: make test, not make check
def test_gain_is_what_the_scenario_api_finds_hour_by_hour(client, schedule_answer):
    a = schedule_answer
    assert a["added_hours"] <= 25 and a["stations"]
    hours = {s["station_id"]: s["hours_after"] for s in a["stations"]}
    day = datetime.combine(weekday_date(1), datetime.min.time())
    gained, hours_seen = 0, 0
    for h in range(24):
        res = client.post("/api/scenario", json={
            "type": "relay", "threshold_m": 1000, "hours": hours,
            "at": (day + timedelta(hours=h)).isoformat(timespec="minutes")})
        assert res.status_code == 200, res.get_json()
        r = res.get_json()
        gained += r["delta"]["covered"]
        assert r["before"]["covered"] == a["before"][h]["covered"], h
        assert r["after"]["covered"] == a["after"][h]["covered"], h
        hours_seen += 1
    assert gained == a["gain_worker_hours"] > 0 and hours_seen == 24
    assert sum(r["covered"] for r in a["after"]) == a["covered_worker_hours"]["after"]
    assert a["curve"][0]["covered_worker_hours"] == a["covered_worker_hours"]["before"]
    assert a["keep_open_24_7"]["hours"] <= 25


@API
@pytest.mark.slow  # a Shanghai schedule, 3 s: make test, not make check
def test_new_hours_open_exactly_the_added_hours(schedule_answer):
    day = datetime.combine(weekday_date(1), datetime.min.time())
    for s in schedule_answer["stations"]:
        before = [bool(open_mask(np.array([s["hours_before"]]), day + timedelta(hours=h))[0])
                  for h in range(24)]
        after = [bool(open_mask(np.array([s["hours_after"]]), day + timedelta(hours=h))[0])
                 for h in range(24)]
        assert all(a or not b for a, b in zip(after, before, strict=True))
        assert sum(after) - sum(before) == s["added_hours"]
        # other days keep their hours
        other = day + timedelta(days=1, hours=7)
        assert open_mask(np.array([s["hours_after"]]), other)[0] == \
            open_mask(np.array([s["hours_before"]]), other)[0]


@API
@pytest.mark.slow  # a Shanghai schedule, 3 s: make test, not make check
def test_csv_download_imports_back_with_the_new_hours(client, schedule_answer, tmp_path):
    res = client.get("/api/schedule?type=relay&weekday=tu&budget_hours=25&threshold_m=1000"
                     "&format=csv")
    assert res.status_code == 200 and "schedule-relay-tu.csv" in \
        res.headers["Content-Disposition"]
    path = tmp_path / "hours.csv"
    path.write_bytes(res.data)
    ds = tmp_path / "ds"
    ds.mkdir()
    shutil.copy(DATA / "stations.geojson", ds / "stations.geojson")
    out = CliRunner().invoke(cli, ["import", str(path), "--dataset", str(ds)],
                             prog_name="stations")
    assert out.exit_code == 0, out.output
    hours = Atlas.load(ds).stations.set_index("id")["opening_hours"]
    for s in schedule_answer["stations"]:
        assert hours[s["station_id"]] == s["hours_after"]
    assert len(hours) == len(Atlas.load(DATA).stations)


@API
@pytest.mark.slow  # a Shanghai schedule, 3 s: make test, not make check
def test_cli_schedule_json_equals_the_api(client, schedule_answer):
    out = CliRunner().invoke(cli, ["schedule", "--type", "relay", "--weekday", "tu",
                                   "--budget-hours", "25", "--threshold", "1000", "--json"],
                             prog_name="stations")
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)  # progress lines go to stderr
    assert got["gain_worker_hours"] == schedule_answer["gain_worker_hours"]
    assert [s["station_id"] for s in got["stations"]] == \
        [s["station_id"] for s in schedule_answer["stations"]]


@pytest.mark.parametrize("query, param", [
    ("budget_hours=0", "budget_hours"), ("earliest=25:00", "earliest"),
    ("earliest=10:00&latest=09:00", "earliest"), ("step=0", "step"),
    ("at=2026-11-24T10:00", "at"), ("latest=22:30", "latest"), ("exact=2", "exact")])
@API
def test_bad_schedule_questions_are_400s_naming_the_parameter(client, query, param):
    res = client.get(f"/api/schedule?type=relay&{query}")
    assert res.status_code == 400 and res.get_json()["param"] == param
