"""The `stations` command: tables, GeoJSON, and one-line errors with exit status 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from pyproj import Geod

from app.cli.main import cli
from geo.coords import wgs84_to_bd09

GEOD = Geod(ellps="WGS84")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), prog_name="stations")


def test_info_counts_and_sample_warning():
    res = run("info")
    assert res.exit_code == 0
    assert "SAMPLE DATA" in res.output
    total = next(line for line in res.output.splitlines() if line.startswith("total"))
    assert total.split()[1:] == ["1309", "132", "71", "1512"]
    assert "静安区 Jing'an" in res.output


def test_nearest_json_is_geojson_sorted_by_true_distance(atlas):
    res = run("nearest", "--lat", "31.2304", "--lng", "121.4737", "--k", "3", "--json")
    assert res.exit_code == 0, res.output
    fc = json.loads(res.stdout)
    assert fc["type"] == "FeatureCollection" and fc["distance_kind"] == "straight"
    assert fc["sample"] is True and len(fc["features"]) == 3
    props = [f["properties"] for f in fc["features"]]
    for f in fc["features"]:
        assert {"id", "name", "type", "distance_m", "open", "closes_at"} <= set(f["properties"])
        lon, lat = f["geometry"]["coordinates"]
        _, _, d = GEOD.inv(121.4737, 31.2304, lon, lat)
        assert f["properties"]["distance_m"] == pytest.approx(d, abs=0.1)
    dists = [p["distance_m"] for p in props]
    assert dists == sorted(dists)
    _, _, all_d = GEOD.inv(np.full(len(atlas.stations), 121.4737),
                           np.full(len(atlas.stations), 31.2304),
                           atlas.stations["lon"].values, atlas.stations["lat"].values)
    assert dists[0] == pytest.approx(all_d.min(), abs=0.1)


def test_bd09_input_gives_the_same_answer_as_wgs84():
    blon, blat = wgs84_to_bd09(121.4737, 31.2304)
    a = json.loads(run("nearest", "--lat", "31.2304", "--lng", "121.4737", "--json").stdout)
    b = json.loads(run("nearest", "--lat", f"{float(blat):.9f}", "--lng",
                       f"{float(blon):.9f}", "--crs", "bd09", "--json").stdout)
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]


def test_filters_and_time_reach_the_answer():
    res = run("nearest", "--lat", "31.2304", "--lng", "121.4737", "--type", "relay",
              "--amenity", "microwave", "--open-at", "2026-11-24T21:00", "--k", "5", "--json")
    feats = json.loads(res.stdout)["features"]
    assert len(feats) == 5
    for f in feats:
        p = f["properties"]
        assert p["type"] == "relay" and "microwave" in p["amenities"] and p["open"] is True


def test_table_output_has_header_and_rows():
    res = run("nearest", "--lat", "31.2304", "--lng", "121.4737", "--k", "2")
    lines = res.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    assert "metres" in lines[header] and len(lines) == header + 5
    assert lines[-1] == "(straight-line distance)"


@pytest.mark.parametrize(("args", "fragment"), [
    (["--lat", "200", "--lng", "121"], "lat must be between -90 and 90"),
    (["--lat", "nan", "--lng", "121"], "lat must be a number"),
    (["--lat", "abc", "--lng", "121"], "lat must be a number"),
    (["--lat", "31", "--lng", "121", "--type", "bus"], "unknown type 'bus'"),
    (["--lat", "31", "--lng", "121", "--k", "0"], "k must be between 1 and 50"),
    (["--lat", "31", "--lng", "121", "--k", "51"], "k must be between 1 and 50"),
    (["--lat", "31", "--lng", "121", "--k", "two"], "k must be a whole number"),
    (["--lat", "31", "--lng", "121", "--open-at", "tonight"], "open_at must be an ISO time"),
    (["--lat", "31", "--lng", "121", "--amenity", "sauna"], "unknown amenity 'sauna'"),
    (["--lat", "31", "--lng", "121", "--crs", "utm"], "unknown crs 'utm'"),
    (["--lng", "121"], "Missing option '--lat'"),
])
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    res = run("nearest", *args)
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def test_bad_dataset_is_one_line_naming_the_row(tmp_path):
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.4, 31.2]},
         "properties": {"id": "x1", "name": "X", "type": "relay", "district": "黄浦区",
                        "district_code": "310101", "opening_hours": "whenever"}}]}
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(bad))
    res = run("--data", str(path), "info")
    assert res.exit_code == 2
    assert res.output.strip().startswith("error: bad.geojson row 1 (id 'x1') field "
                                         "'opening_hours'")


def test_installed_console_script_prints_no_traceback():
    """The real entry point, as a user runs it."""
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "stations"
    res = subprocess.run([str(exe), "nearest", "--lat", "91", "--lng", "121"],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip() == "error: lat must be between -90 and 90, got '91'"
    assert "Traceback" not in res.stderr + res.stdout


@pytest.mark.server
def test_serve_runs_the_web_app(tmp_path):
    """`stations serve` starts a server that answers the page and the API."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "stations"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--tiles", "none"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/nearest?lat=31.23"
                                            "&lng=121.47&k=1", timeout=2) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        assert len(body["features"]) == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert "示例数据" in r.read().decode()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert "SAMPLE DATA" in out and f"http://127.0.0.1:{port}/" in out


def test_serve_rejects_a_bad_port_in_one_line():
    res = run("serve", "--port", "99999")
    assert res.exit_code == 2 and res.output.startswith("error: ")
    assert len(res.output.strip().splitlines()) == 1


def test_progress_bar_only_after_the_delay():
    import io
    import time

    from app.cli.progress import DelayedProgress

    quiet = io.StringIO()
    p = DelayedProgress(total=3, delay=10.0, stream=quiet)
    assert [p.step(f"s{i}", lambda i=i: i) for i in range(3)] == [0, 1, 2]
    p.close()
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    p = DelayedProgress(total=3, delay=0.05, stream=shown)
    p.step("slow", lambda: time.sleep(0.1))
    p.step("next", lambda: None)
    p.step("last", lambda: None)
    p.close()
    assert "next" in shown.getvalue() or "last" in shown.getvalue()


def test_validate_lists_every_problem_and_accepts_good_files(tmp_path):
    feats = []
    for i, (typ, hours) in enumerate([("relay", "24/7"), ("bus", "24/7"), ("relay", "never")]):
        feats.append({"type": "Feature",
                      "geometry": {"type": "Point", "coordinates": [121.4 + i / 1000, 31.2]},
                      "properties": {"id": f"s{i}", "name": f"S{i}", "type": typ,
                                     "district": "黄浦区", "district_code": "310101",
                                     "opening_hours": hours}})
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    res = run("validate", str(bad), "--lang", "en")
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 2
    assert errors[0].split()[2:5] == ["2", "type", "bus"]  # feature 2, column, value
    assert errors[1].split()[2:5] == ["3", "opening_hours", "never"]
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": feats[:1]}))
    res = run("validate", str(good), "--crs", "gcj02")
    assert res.exit_code == 0 and res.stdout.startswith("ok: 1 stations (relay 1)")


def test_data_crs_converts_amap_station_lists(tmp_path):
    from geo.coords import wgs84_to_gcj02

    glon, glat = (float(v) for v in wgs84_to_gcj02(121.4998, 31.2397))
    path = tmp_path / "amap.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [glon, glat]},
        "properties": {"id": "a1", "name": "A", "type": "relay", "district": "浦东新区",
                       "district_code": "310115", "opening_hours": "24/7"}}]}))
    res = run("--data", str(path), "--data-crs", "gcj02", "nearest", "--lat", "31.2397",
              "--lng", "121.4998", "--json", "--k", "1")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["features"][0]["properties"]["distance_m"] < 0.01
    res = run("--data-crs", "utm", "info")
    assert res.exit_code == 2 and "unknown crs" in res.output


def test_out_makes_missing_folders_and_a_missing_dataset_is_one_error(tmp_path):
    from click.testing import CliRunner

    from app.cli.main import cli

    runner = CliRunner()
    out = tmp_path / "new" / "deeper" / "gaps.csv"
    res = runner.invoke(cli, ["coverage", "--type", "fitness", "--out", str(out)],
                        prog_name="stations")
    assert res.exit_code == 0, res.output
    assert out.read_text("utf-8-sig").startswith("rank")
    res = runner.invoke(cli, ["datasets", "--dataset", str(tmp_path / "nonexistent")],
                        prog_name="stations")
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"error: {tmp_path / 'nonexistent'}: no such dataset directory"]
