"""Workers present by the hour: profiles per segment and kind of day, cells with their own,
checked against brute force over the cells, and imported as versions that change nothing
when a row is bad."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest

from geo.analysis.coverage import compute_coverage, hourly_coverage
from geo.atlas import Atlas
from geo.hours import day_kind
from geo.index.nearest import NearestIndex
from geo.io.datasets import load_presence_tables
from geo.io.demand_profiles import flat_profiles
from geo.questions import CoverageSpec
from tests.test_coverage import stations_frame
from tests.test_demand_import import run, tree_digest

DATA = Path(__file__).resolve().parents[1] / "data"
PROFILES = pd.read_csv(DATA / "demand_profiles.csv")


def share(segment: str, day: str, hour: int) -> float:
    row = PROFILES[(PROFILES["segment"] == segment) & (PROFILES["day"] == day)
                   & (PROFILES["hour"] == hour)]
    return float(row["share"].iloc[0])


def half_up(x: float) -> int:
    return math.floor(x + 0.5)


@pytest.fixture(scope="module")
def sample() -> Atlas:
    return Atlas.load(DATA)


def test_kinds_of_day_follow_chinas_public_holidays():
    assert day_kind(date(2026, 11, 24)) == "weekday"  # a Tuesday
    assert day_kind(date(2026, 11, 29)) == "weekend"  # a Sunday
    assert day_kind(date(2026, 10, 1)) == "holiday"  # National Day, a Thursday
    assert day_kind(date(2026, 10, 3)) == "holiday"  # a Saturday in Golden Week
    assert day_kind(date(2026, 10, 7)) == "holiday"  # a day off made up on 10 October
    assert day_kind(date(2026, 10, 10)) == "weekday"  # that Saturday is worked (调休)
    assert day_kind(date(2026, 2, 18)) == "holiday"  # Spring Festival


def test_every_default_share_is_documented_and_complete():
    assert len(PROFILES) == 3 * 3 * 24 and PROFILES["share"].between(0, 1).all()
    readme = (DATA / "README.md").read_text("utf-8")
    assert "demand_profiles.csv" in readme and "holiday" in readme
    loaded = load_presence_tables(DATA)[0]
    assert loaded["share"].round(3).tolist() == PROFILES["share"].tolist()


def test_present_workers_are_each_cells_count_times_its_share(sample):
    spec = CoverageSpec("health", 1000, at=datetime(2026, 10, 1, 14))  # a holiday afternoon
    result = compute_coverage(sample, spec)
    d = sample.demand
    so, si = share("office", "holiday", 14), share("industrial", "holiday", 14)
    want = [half_up(o * so) + half_up(i * si)
            for o, i in zip(d["office"].tolist(), d["industrial"].tolist(), strict=True)]
    assert result.served.tolist() == want
    assert result.summary()["workers"] == sum(want)


def test_a_profile_that_zeroes_a_segment_counts_none_of_it(sample):
    zero = PROFILES.copy()
    zero.loc[(zero["segment"] == "outdoor") & (zero["hour"] == 3), "share"] = 0.0
    atlas = Atlas(sample.stations, sample.districts, sample.demand, sample.index, profiles=zero)
    night = compute_coverage(atlas, CoverageSpec("relay", 1000, at=datetime(2026, 11, 24, 3)))
    s = night.summary()
    assert s["workers"] == s["covered"] == 0 and int(night.served.sum()) == 0
    curve = hourly_coverage(atlas, CoverageSpec("relay", 1000), 1)
    assert curve.loc[3, "workers_present"] == 0 and pd.isna(curve.loc[3, "share_covered"])
    assert curve.loc[4, "workers_present"] > 0


def test_all_day_answers_are_unchanged(sample):
    # The all-day figures of the embedded data before profiles existed (main at 623c104).
    s = compute_coverage(sample, CoverageSpec("relay", 1000)).summary()
    assert (s["workers"], s["covered"]) == (1_732_916, 1_146_586)
    assert s["workers"] == int(sample.demand["outdoor"].sum())
    # Everyone there all the time: an answer at any hour counts the all-day workers.
    flat = Atlas(sample.stations, sample.districts, sample.demand, sample.index,
                 profiles=flat_profiles())
    at = compute_coverage(flat, CoverageSpec("relay", 1000, at=datetime(2026, 11, 24, 10)))
    assert at.summary()["workers"] == s["workers"]


def test_hourly_curve_counts_who_is_there_by_brute_force():
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(31.2304, 121.4737, 9), 3))
    rng = np.random.default_rng(4)
    workers = rng.integers(0, 40, len(cells))
    demand = pd.DataFrame({"h3": cells, "district_code": "310101", "outdoor": workers,
                           "office": 0, "industrial": 0})
    stations = stations_frame([
        {"id": "day", "name": "D", "type": "relay", "lon": 121.4737, "lat": 31.2304,
         "opening_hours": "Mo-Fr 09:00-17:00"},
        {"id": "late", "name": "L", "type": "relay", "lon": 121.4790, "lat": 31.2330,
         "opening_hours": "Mo-Su 07:00-23:00"}])
    from geo.io.datasets import DEFAULT_DATA_DIR
    from geo.io.districts import load_districts

    atlas = Atlas(stations, load_districts(DEFAULT_DATA_DIR / "districts.geojson"), demand,
                  NearestIndex(stations))
    spec = CoverageSpec("relay", 300)
    curve = hourly_coverage(atlas, spec, 1)
    for h in range(24):
        s = share("outdoor", "weekday", h)
        present = np.array([half_up(w * s) for w in workers.tolist()])
        at = compute_coverage(atlas, CoverageSpec("relay", 300, at=datetime(2026, 11, 24, h)))
        assert curve.loc[h, "workers_present"] == present.sum(), h
        assert curve.loc[h, "covered"] == present[at.covered].sum(), h
        assert at.summary()["covered"] == curve.loc[h, "covered"], h
    assert curve["stations_open"].tolist()[8:10] == [1, 2]


def test_day_in_worker_hours_adds_up_the_hourly_curve(client):
    hourly = client.get("/api/coverage/hourly?type=health&threshold_m=1500&weekday=sa"
                        ).get_json()
    day = client.get("/api/coverage/day?type=health&threshold_m=1500&weekday=sa").get_json()
    assert day["worker_hours"] == sum(h["workers_present"] for h in hourly["hours"])
    assert day["covered_worker_hours"] == sum(h["covered"] for h in hourly["hours"])
    segs = day["segments"]
    assert set(segs) == {"office", "industrial"}
    assert sum(s["worker_hours"] for s in segs.values()) == day["worker_hours"]
    assert sum(s["covered_worker_hours"] for s in segs.values()) == day["covered_worker_hours"]
    assert segs["office"]["worker_hours"] < segs["industrial"]["worker_hours"]  # a Saturday
    assert day["share"] == round(day["covered_worker_hours"] / day["worker_hours"], 4)
    assert day["sample"] is True and day["demand_source"] == "sample"
    bad = client.get("/api/coverage/day?type=relay&at=2026-11-24T10:00")
    assert bad.status_code == 400 and bad.get_json()["param"] == "at"


def test_profiles_import_with_a_bad_row_changes_nothing(tmp_path, dataset):
    run("demand", "profiles", str(_csv(tmp_path, "ok.csv", [("office", "weekday", 9, 0.5)])),
        "--dataset", str(dataset))
    before = tree_digest(dataset)
    bad = _csv(tmp_path, "bad.csv", [("office", "weekday", 9, 0.4),
                                     ("riders", "weekday", 9, 0.4),
                                     ("office", "weekday", 24, 0.4),
                                     ("office", "weekday", 9, 1.2)])
    res = run("demand", "profiles", str(bad), "--dataset", str(dataset), "--lang", "en")
    assert res.exit_code == 2
    assert "row 3" in res.output and "riders" in res.output and "24" in res.output
    assert tree_digest(dataset) == before


def test_profiles_import_makes_a_version_the_answers_follow(tmp_path, dataset):
    path = _csv(tmp_path, "night.csv", [("outdoor", "weekday", 22, 1.0),
                                        ("outdoor", "weekday", 23, 0.0)])
    res = run("demand", "profiles", str(path), "--dataset", str(dataset), "--lang", "en")
    assert res.exit_code == 0, res.output
    atlas = Atlas.load(dataset)
    late = compute_coverage(atlas, CoverageSpec("relay", 1000, at=datetime(2026, 11, 24, 22)))
    assert late.summary()["workers"] == int(atlas.demand["outdoor"].sum())
    gone = compute_coverage(atlas, CoverageSpec("relay", 1000, at=datetime(2026, 11, 24, 23)))
    assert gone.summary()["workers"] == 0
    noon = compute_coverage(atlas, CoverageSpec("relay", 1000, at=datetime(2026, 11, 24, 12)))
    s12 = share("outdoor", "weekday", 12)
    assert noon.summary()["workers"] == sum(half_up(w * s12)
                                            for w in atlas.demand["outdoor"].tolist())
    listed = json.loads(run("datasets", "--dataset", str(dataset), "--json").stdout)
    assert listed[-1]["profiles"]["source"] == "night.csv" and listed[-1]["live"]


def test_h3_hourly_columns_give_cells_their_own_profile(tmp_path, dataset, sample):
    cells = list(sample.demand["h3"].iloc[[10, 20, 30]])
    pings = np.zeros((3, 24), int)
    pings[:, 12] = [50, 80, 20]  # the busiest hour: the cell's workers
    pings[:, 3] = [25, 0, 20]
    table = pd.DataFrame(pings, columns=[f"h{h:02d}" for h in range(24)])
    table.insert(0, "h3", cells)
    path = tmp_path / "pings.csv"
    table.to_csv(path, index=False)
    res = run("demand", "import", str(path), "--dataset", str(dataset), "--mode", "add",
              "--lang", "en")
    assert res.exit_code == 0, res.output
    atlas = Atlas.load(dataset)
    r = compute_coverage(atlas, CoverageSpec("relay", 1000, at=datetime(2026, 11, 24, 3)))
    rows = [int(np.flatnonzero(atlas.demand["h3"] == c)[0]) for c in cells]
    live = sample.demand["outdoor"].iloc[rows].to_numpy()
    # the whole cell follows its own profile: 03:00 share = pings at 3 / pings at 12
    assert r.served[rows].tolist() == [half_up((w + p) * s) for w, p, s in
                                       zip(live, [50, 80, 20], [0.5, 0.0, 1.0], strict=True)]
    others = np.setdiff1d(np.arange(len(atlas.demand)), rows)[:50]
    s3 = share("outdoor", "weekday", 3)
    assert r.served[others].tolist() == [half_up(w * s3)
                                         for w in atlas.demand["outdoor"].iloc[others]]
    # a later import without hours, replacing the segment, drops the old own profiles
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"h3": cells, "count": [5, 5, 5]}).to_csv(plain, index=False)
    assert run("demand", "import", str(plain), "--dataset", str(dataset)).exit_code == 0
    assert len(load_presence_tables(dataset)[1]) == 0


def _csv(tmp_path: Path, name: str, rows: list[tuple]) -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=["segment", "day", "hour", "share"]).to_csv(path, index=False)
    return path
