"""Coverage API and CLI: figures agree with the geo layer; files are valid; bad input is 400."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli.main import cli
from geo.analysis.coverage import compute_coverage
from geo.questions import CoverageSpec

# one worker asks the shared app these heavy questions, so each is computed once
pytestmark = pytest.mark.xdist_group("api")


def test_summary_and_districts_match_geo_layer(client, atlas):
    body = client.get("/api/coverage?type=health&threshold_m=2500&amenity=toilet").get_json()
    want = compute_coverage(atlas, CoverageSpec("health", 2500.0, None, ("toilet",)))
    assert body["summary"] == want.summary()
    assert body["distance_kind"] == "straight" and body["sample"] is True
    assert len(body["districts"]) == 16
    assert sum(d["covered"] for d in body["districts"]) == body["summary"]["covered"]


def test_summary_csv_download(client):
    r = client.get("/api/coverage?type=relay&format=csv")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    table = pd.read_csv(io.BytesIO(r.data), encoding="utf-8-sig", dtype={"code": str})
    assert len(table) == 17 and table["code"].iloc[-1] == "total"
    assert table["workers"].iloc[:-1].sum() == table["workers"].iloc[-1]


def test_hourly_has_24_figures_and_a_night_gap(client):
    body = client.get("/api/coverage/hourly?type=relay&weekday=tu").get_json()
    hours = body["hours"]
    assert [h["hour"] for h in hours] == list(range(24)) and body["weekday"] == 1
    by_hour = {h["hour"]: h["share_covered"] for h in hours}
    assert by_hour[3] < by_hour[10] and by_hour[22] < by_hour[15]
    assert max(h["covered"] for h in hours) <= body["all_day"]  # open sets are subsets


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_gap_downloads_are_valid_files(client, tmp_path, fmt):
    r = client.get(f"/api/gaps?type=relay&at=2026-11-24T21:00&limit=15&format={fmt}"
                   "&download=1")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].endswith(f'.{fmt}"')
    path = tmp_path / f"gaps.{fmt}"
    path.write_bytes(r.data)
    if fmt == "csv":
        table = pd.read_csv(path, encoding="utf-8-sig")
    else:
        table = gpd.read_file(path)
        assert table.geometry.is_valid.all() and (table.geom_type.isin(
            ["Polygon", "MultiPolygon"])).all()
    assert len(table) == 15 and list(table["rank"]) == list(range(1, 16))
    if fmt != "geojson":
        assert (table["data"] == "SAMPLE data, not official").all()
    assert table["workers"].is_monotonic_decreasing


def test_gaps_geojson_for_drawing(client, atlas):
    fc = client.get("/api/gaps?type=relay&limit=5&simplify=1").get_json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 5
    want = compute_coverage(atlas, CoverageSpec("relay")).gap_table().head(5)
    assert [f["properties"]["workers"] for f in fc["features"]] == want["workers"].tolist()
    assert fc["total_zones"] == len(compute_coverage(atlas, CoverageSpec("relay")).gap_table())


def test_cells_in_a_small_box(client, atlas):
    fc = client.get("/api/coverage/cells?bbox=121.46,31.22,121.48,31.24&type=relay").get_json()
    grid = atlas.grid
    idx = grid.in_bbox((121.46, 31.22, 121.48, 31.24))
    assert fc["count"] == len(idx) == len(fc["features"]) > 0
    cov = compute_coverage(atlas, CoverageSpec("relay"))
    got = {f["properties"]["h3"]: f["properties"]["covered"] for f in fc["features"]}
    assert got == {grid.h3[i]: bool(cov.covered[i]) for i in idx}


@pytest.mark.parametrize(("url", "param"), [
    ("/api/coverage?type=bus", "type"),
    ("/api/coverage?threshold_m=abc", "threshold_m"),
    ("/api/coverage?threshold_m=1e9", "threshold_m"),
    ("/api/coverage?at=midnight", "at"),
    ("/api/coverage?amenity=pool", "amenity"),
    ("/api/coverage?format=xlsx", "format"),
    ("/api/coverage/hourly?weekday=8", "weekday"),
    ("/api/gaps?limit=0", "limit"),
    ("/api/gaps?format=shp", "format"),
    ("/api/gaps?format=csv&out_crs=gcj02", "out_crs"),
    ("/api/coverage/cells", "bbox"),
    ("/api/coverage/cells?bbox=120,30,122,32", "bbox"),
])
def test_bad_coverage_input_is_400_json(client, url, param):
    r = client.get(url)
    assert r.status_code == 400, r.data
    assert r.get_json()["param"] == param


def test_too_large_bbox_says_zoom_in(client):
    r = client.get("/api/coverage/cells?bbox=120.8,30.6,122.2,31.9")
    assert "zoom in" in r.get_json()["error"]


def test_cli_coverage_prints_summary_and_writes_gaps(tmp_path, atlas):
    out = tmp_path / "gaps.geojson"
    res = CliRunner().invoke(cli, ["coverage", "--type", "relay", "--at", "2026-11-24T21:00",
                                   "--top", "3", "--out", str(out)], prog_name="stations")
    assert res.exit_code == 0, res.output
    want = compute_coverage(atlas, CoverageSpec("relay", None, pd.Timestamp(
        "2026-11-24T21:00").to_pydatetime()))
    s = want.summary()
    assert f"covered {s['covered']:,} of {s['workers']:,}" in res.output
    assert "top 3 of" in res.output and "SAMPLE DATA" in res.output
    z = want.zone_summary()
    assert f"{z['uncovered_in_zones']:,} in gap zones, {z['uncovered_below_floor']:,} below" \
        in res.output
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == len(want.gap_table())
    assert doc["covered"] == s["covered"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["--type", "bus"], "unknown type"),
    (["--threshold", "-5"], "threshold_m must be between"),
    (["--at", "later"], "at must be an ISO time"),
    (["--out", "gaps.shp"], "use a .gpkg, .geojson or .csv"),
])
def test_cli_coverage_bad_input(args, fragment):
    res = CliRunner().invoke(cli, ["coverage", *args], prog_name="stations")
    assert res.exit_code == 2 and res.output.startswith("error: ") and fragment in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_gap_summary_says_what_the_zones_hold_and_what_sits_below_the_floor(client, atlas):
    import h3

    body = json.loads(client.get("/api/gaps?type=relay&limit=5000").data)
    s = body["summary"]
    want = compute_coverage(atlas, CoverageSpec("relay"))
    uncovered = ~want.covered & (want.served > 0)
    # brute force: each uncovered cell's density from h3-py's own cell area, one by one
    density = [w / (h3.cell_area(c, "m^2") / 1e6)
               for c, w in zip(want.grid.h3[uncovered], want.served[uncovered], strict=True)]
    below = sum(int(w) for w, d in zip(want.served[uncovered], density, strict=True)
                if d < body["min_density"])
    assert s["uncovered_below_floor"] == below
    assert s["uncovered_in_zones"] == sum(f["properties"]["workers"] for f in body["features"])
    assert s["uncovered_in_zones"] + s["uncovered_below_floor"] + s["uncovered_unreached"] == \
        s["uncovered"] and s["uncovered_unreached"] == 0  # straight lines reach every cell
    assert s["uncovered_below_floor"] > s["uncovered_in_zones"]  # the sample's sparse edges


def test_a_box_with_no_cell_answers_without_computing_coverage(app, client):
    url = "/api/coverage/cells?type=relay&threshold_m=1234&bbox=122.5,30.0,122.6,30.1"
    res = client.get(url)
    assert res.status_code == 200
    body = res.get_json()
    assert body["count"] == 0 and body["features"] == [] and body["threshold_m"] == 1234
    cached = app.extensions.get("coverage_cache", {})
    assert not any(getattr(k, "threshold_m", None) == 1234 for k in cached)
