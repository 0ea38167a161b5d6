"""Importing a clerk's real list: Chinese headers, hours and vocabularies, GBK, XLSX, datums,
districts, duplicates, a report by Excel row, and versioned datasets that never half-switch."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

from app.cli.main import cli
from geo.coords import wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")
HOURS = {  # a clerk's form -> the OSM string expected
    "周一至周五 9:00-17:00": "Mo-Fr 09:00-17:00",
    "周一到周五 9:00-17:00": "Mo-Fr 09:00-17:00",
    "工作日 8:30-17:00": "Mo-Fr 08:30-17:00",
    "周末 9:00-18:00": "Sa,Su 09:00-18:00",
    "双休日 10:00-16:00": "Sa,Su 10:00-16:00",
    "每天 8:00-22:00": "08:00-22:00",
    "全天": "24/7",
    "24小时": "24/7",
    "24小时营业": "24/7",
    "周一至周五 9:00-17:00；节假日休息": "Mo-Fr 09:00-17:00; PH off",
    "周一至周五 9:00-17:00，法定节假日休息": "Mo-Fr 09:00-17:00; PH off",
    "周一至周五 9:00-11:30 13:30-17:00": "Mo-Fr 09:00-11:30,13:30-17:00",
    "周一至周五９：００－１７：００": "Mo-Fr 09:00-17:00",
    "周一至周六 8:30至16:30": "Mo-Sa 08:30-16:30",
    "周一至周五 9:00~17:00": "Mo-Fr 09:00-17:00",
    "周一至周五 9:00–17:00": "Mo-Fr 09:00-17:00",
    "周一至周五 9:00—17:00": "Mo-Fr 09:00-17:00",
    "09:00-17:00 Mo-Fr": "Mo-Fr 09:00-17:00",
    "周一至周五 9:00-17:00，周六 9:00-12:00": "Mo-Fr 09:00-17:00; Sa 09:00-12:00",
    "Mo-Fr 09:00-17:00; PH off": "Mo-Fr 09:00-17:00; PH off",
}


@pytest.mark.parametrize("text, osm", HOURS.items())
def test_chinese_hours_become_osm(text, osm):
    from geo.io.clerk_hours import normalise_hours

    assert normalise_hours(text) == osm


@pytest.mark.parametrize("text", ["周一至周五 上午九点到下午五点", "看情况", "", "周一至周五",
                                  "25:00-26:00"])
def test_hours_that_cannot_be_read_say_what_was_expected(text):
    from geo.errors import HoursFormError
    from geo.io.clerk_hours import normalise_hours

    with pytest.raises(HoursFormError, match=r"expected|no time range|not a time|did not"):
        normalise_hours(text)


def test_public_holidays_close_ph_off_stations():
    from geo.hours import is_open

    assert not is_open("Mo-Fr 09:00-17:00; PH off", datetime(2026, 10, 1, 10))  # National Day
    assert is_open("Mo-Fr 09:00-17:00; PH off", datetime(2026, 10, 13, 10))  # a Tuesday


def test_vocabularies():
    from geo.io.clerk_words import amenities, header_field, host, station_type

    assert [header_field(h) for h in ("站点名称", "详细地址", "经度", "LAT", "所属区", "服务时间",
                                      "联系电话", "容纳人数", "依托单位", "坐标")] == [
        "name", "address", "lon", "lat", "district", "opening_hours", "phone", "capacity",
        "host", "coords"]
    assert [station_type(t) for t in ("户外职工爱心接力站", "接力站", "健康服务点", "职工健身驿站",
                                      "公交站")] == ["relay", "relay", "health", "fitness", None]
    assert [host(h) for h in ("银行", "邮局", "联通营业厅", "药房", "社区服务中心")] == [
        "bank", "post", "telecom", "pharmacy", "subdistrict"]
    assert amenities("6+X：冰箱、无线网络") == (
        ["water", "microwave", "fridge", "charging", "ac", "toilet", "seating", "wifi"], [])
    assert amenities("热水，卫生间；药箱 空调") == (["water", "ac", "toilet", "first_aid"], [])
    assert amenities("饮水、按摩椅") == (["water"], ["按摩椅"])


def near_boundary_points(atlas, n: int = 8) -> list[tuple[str, float, float]]:
    """(district, lon, lat) inside a district, close enough to its edge that reading the
    GCJ-02 position as WGS-84 puts it outside: what a forgotten --crs does."""
    out = []
    for name, g in zip(atlas.districts["name"], atlas.districts.geometry, strict=True):
        b = g.boundary
        for t in np.linspace(0, 1, 300):
            p = b.interpolate(t, normalized=True)
            q = next((shapely.Point(p.x + dx, p.y + dy) for dx, dy in
                      [(-0.003, 0), (0.003, 0), (0, 0.003), (0, -0.003)]
                      if g.contains(shapely.Point(p.x + dx, p.y + dy))), None)
            if q is None:
                continue
            gx, gy = (float(v) for v in wgs84_to_gcj02(q.x, q.y))
            if not g.contains(shapely.Point(gx, gy)):
                out.append((name, q.x, q.y))
                break
        if len(out) >= n:
            break
    return out


@pytest.fixture(scope="module")
def truth(atlas):
    """Ten real positions (WGS-84) with districts, eight of them near a district edge."""
    central = atlas.stations.iloc[[0, 40]]
    pts = [*near_boundary_points(atlas),
           *[(r.district, r.lon, r.lat) for r in central.itertuples()]]
    return pts


def gbk_csv(path: Path, truth, crs_shift=True) -> Path:
    forms = list(HOURS)
    lines = ["站点名称,详细地址,经度,纬度,所属区,服务时间,服务设施,联系电话,座位数,依托单位"]
    for i, (district, lon, lat) in enumerate(truth):
        x, y = (float(v) for v in wgs84_to_gcj02(lon, lat)) if crs_shift else (lon, lat)
        lines.append(f"接力站{i:02d},{district}某路{i}号,{x:.7f},{y:.7f},{district},"
                     f"\"{forms[i % len(forms)]}\",6+X：冰箱、无线网络,021-6000{i:04d},"
                     f"{10 + i},银行")
    path.write_bytes("\n".join(lines).encode("gbk"))
    return path


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_gbk_csv_with_chinese_headers_and_gcj02_coordinates(tmp_path, truth):
    src = gbk_csv(tmp_path / "名单.csv", truth)
    code, _out, err = run("import", str(src), "--type", "relay", "--crs", "gcj02",
                         "--dataset", str(tmp_path / "ds"), "--lang", "en")
    assert code == 0, err
    doc = json.loads(next((tmp_path / "ds" / "versions").glob("*/stations.geojson")).read_text())
    got = doc["features"]
    assert len(got) == len(truth)
    for f, (district, lon, lat) in zip(got, truth, strict=True):
        x, y = f["geometry"]["coordinates"]
        assert GEOD.inv(lon, lat, x, y)[2] < 0.5  # the WGS-84 truth within 0.5 m
        assert f["properties"]["district"] == district
        assert f["properties"]["opening_hours"] in HOURS.values()
        assert "fridge" in f["properties"]["amenities"] and f["properties"]["host"] == "bank"
    assert got[0]["properties"]["district_code"].startswith("310")


def test_forgetting_the_datum_is_warned_with_the_flag_to_use(tmp_path, truth):
    src = gbk_csv(tmp_path / "amap.csv", truth)
    _, _, err = run("validate", str(src), "--type", "relay", "--lang", "en")
    assert "--crs gcj02" in err  # the exact flag to use
    code, _out, err = run("validate", str(src), "--type", "relay", "--crs", "gcj02", "--lang", "en")
    assert code == 0 and "--crs" not in err


def test_three_bad_rows_are_reported_by_excel_row_and_nothing_is_written(tmp_path, truth):
    ds = tmp_path / "ds"
    good = gbk_csv(tmp_path / "good.csv", truth)
    assert run("import", str(good), "--type", "relay", "--crs", "gcj02", "--dataset",
               str(ds))[0] == 0
    before = {p: p.read_bytes() for p in ds.rglob("*") if p.is_file()}
    lines = good.read_bytes().decode("gbk").splitlines()
    lines[2] = lines[2].replace("021-", "021-").replace(",10,", ",ten,").replace(",11,", ",ten,")
    cells = lines[4].split(",")
    cells[5] = "看情况"
    lines[4] = ",".join(cells)
    cells = lines[6].split(",")
    cells[4] = "浦西区"
    lines[6] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("\n".join(lines).encode("gbk"))
    report = tmp_path / "report.csv"
    code, _out, err = run("import", str(bad), "--type", "relay", "--crs", "gcj02", "--dataset",
                         str(ds), "--report", str(report), "--lang", "zh")
    assert code == 2 and "未写入" in err
    assert {p: p.read_bytes() for p in ds.rglob("*") if p.is_file()} == before
    import pandas as pd

    rep = pd.read_csv(report, encoding="utf-8-sig", dtype=str)
    errors = rep[rep["级别"] == "错误"]
    assert sorted(errors["行"].astype(int)) == [3, 5, 7]  # rows as Excel shows them
    assert set(errors["列"]) == {"座位数", "服务时间", "所属区"}
    assert errors["原因"].str.contains("浦西区").any()
    kept = rep[rep["级别"] == "说明"].set_index("行")
    assert kept.loc["2", "值"] == "周一至周五 9:00-17:00"  # the clerk's original hours, kept
    assert kept.loc["2", "原因"] == "读作 'Mo-Fr 09:00-17:00'"


def test_empty_list_and_unsafe_ids_are_refused(tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    code, _, err = run("validate", str(empty), "--type", "relay")
    assert code == 2 and "no stations" in err
    from geo.errors import StationFileError
    from geo.io.stations import load_stations

    with pytest.raises(StationFileError, match="no stations"):
        load_stations(empty)
    bad = tmp_path / "ids.csv"
    bad.write_text("id,name,lng,lat,开放时间\na/b,x,121.47,31.23,24/7\n", "utf-8")
    code, _out, err = run("validate", str(bad), "--type", "relay", "--lang", "en")
    assert code == 2 and "may only use letters" in err


def test_two_sheet_workbook_with_a_type_column(tmp_path, truth):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "接力站"
    ws.append(["上海市总工会 2026 年站点名单"])  # a title row above the header
    ws.append(["名称", "类型", "坐标", "开放时间", "设施"])
    for i, (_, lon, lat) in enumerate(truth[:4]):
        ws.append([f"站{i}", "爱心接力站", f"{lon:.7f},{lat:.7f}", "24小时", "饮水"])
    hs = wb.create_sheet("健康点")
    hs.append(["名称", "类型", "经度", "纬度", "开放时间"])
    for i, (_, lon, lat) in enumerate(truth[4:7]):
        hs.append([f"健康点{i}", "职工健康服务点", lon, lat, "工作日 9:00-17:00"])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    code, out, err = run("validate", str(path))
    assert code == 0, err
    assert "relay 4" in out and "health 3" in out
    code, out, err = run("validate", str(path), "--sheet", "健康点")
    assert code == 0 and "health 3" in out and "relay" not in out


def test_duplicates_reported_and_merged_with_dedupe(tmp_path, truth):
    _, lon, lat = truth[0]
    path = tmp_path / "dup.csv"
    path.write_text("名称,经度,纬度,开放时间\n"
                    f"甲站,{lon},{lat},24小时\n"
                    f"甲站,{lon + 0.0001},{lat},24小时\n"  # ~10 m away, same name
                    f"乙站,{lon + 0.01},{lat},24小时\n", "utf-8")
    code, out, err = run("validate", str(path), "--type", "relay", "--lang", "en")
    assert code == 0 and "same station as row 2" in err and "3 stations" in out
    code, out, err = run("validate", str(path), "--type", "relay", "--dedupe", "--lang", "en")
    assert code == 0 and "merged into row 2" in err and "2 stations" in out


def test_ids_are_stable_across_reimports(tmp_path, truth):
    src = gbk_csv(tmp_path / "a.csv", truth)
    ids = []
    for name in ("one", "two"):
        assert run("import", str(src), "--type", "relay", "--crs", "gcj02", "--dataset",
                   str(tmp_path / name))[0] == 0
        doc = json.loads(next((tmp_path / name / "versions").glob("*/stations.geojson"))
                         .read_text())
        ids.append([f["properties"]["id"] for f in doc["features"]])
    assert ids[0] == ids[1] and all(i.startswith("relay-") for i in ids[0])


def test_versions_list_rollback_and_loading_the_live_one(tmp_path, truth):
    ds = tmp_path / "ds"
    a = gbk_csv(tmp_path / "a.csv", truth)
    b = gbk_csv(tmp_path / "b.csv", truth[:5])
    assert run("import", str(a), "--type", "relay", "--crs", "gcj02", "--dataset", str(ds))[0] == 0
    time.sleep(1.1)  # versions are named by the second
    assert run("import", str(b), "--type", "relay", "--crs", "gcj02", "--dataset", str(ds))[0] == 0
    code, out, _ = run("datasets", "--dataset", str(ds), "--json")
    versions = json.loads(out)
    assert [v["stations"] for v in versions] == [len(truth), 5]
    assert [v["live"] for v in versions] == [False, True]
    assert versions[0]["source"] == "a.csv"
    assert set(versions[0]) == {"version", "created", "stations", "source", "demand", "profiles",
                                "live"}
    assert versions[0]["demand"] is None  # a station import carries no demand of its own
    from geo.atlas import Atlas

    assert len(Atlas.load(ds).stations) == 5
    assert run("--data", str(ds), "info")[0] == 0
    assert run("datasets", "--dataset", str(ds), "--use", versions[0]["version"])[0] == 0
    assert len(Atlas.load(ds).stations) == len(truth)  # rolled back
    code, _, err = run("datasets", "--dataset", str(ds), "--use", "nope")
    assert code == 2 and "no version 'nope'" in err
    man = json.loads((ds / "versions" / versions[0]["version"] / "manifest.json").read_text())
    assert man["sha256"] == hashlib.sha256(a.read_bytes()).hexdigest()
    assert man["by_type"] == {"relay": len(truth)} and man["crs"] == "gcj02"


def test_a_crash_between_write_and_switch_leaves_the_old_version_live(tmp_path, truth):
    from geo.atlas import Atlas
    from geo.io.clerk_import import import_table
    from geo.io.clerk_table import read_table
    from geo.io.datasets import list_versions, write_version

    ds = tmp_path / "ds"
    a = gbk_csv(tmp_path / "a.csv", truth)
    assert run("import", str(a), "--type", "relay", "--crs", "gcj02", "--dataset", str(ds))[0] == 0
    live = (ds / "LIVE").read_bytes()
    time.sleep(1.1)
    res = import_table(read_table(gbk_csv(tmp_path / "b.csv", truth[:3])),
                       Atlas.load().districts, type_="relay", crs="gcj02")
    with pytest.raises(RuntimeError, match="injected"):
        write_version(ds, res.stations, tmp_path / "b.csv", "gcj02", fail_before_switch=True)
    assert (ds / "LIVE").read_bytes() == live
    assert len(Atlas.load(ds).stations) == len(truth)
    assert sum(v["live"] for v in list_versions(ds)) == 1


@pytest.mark.slow  # a subprocess killed mid-write: make test, not make check
def test_killing_an_import_mid_write_leaves_the_old_version_live(tmp_path, truth):
    from geo.atlas import Atlas

    ds = tmp_path / "ds"
    a = gbk_csv(tmp_path / "a.csv", truth)
    assert run("import", str(a), "--type", "relay", "--crs", "gcj02", "--dataset", str(ds))[0] == 0
    before = {p: p.read_bytes() for p in ds.rglob("*") if p.is_file()}
    marker = tmp_path / "writing"
    script = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
import geo.io.datasets as d
real = d._write
def slow(path, data):
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2]); fh.flush()
    open({str(marker)!r}, "w").close()
    time.sleep(60)
d._write = slow
from app.cli.main import main
sys.argv = ["stations", "import", {str(gbk_csv(tmp_path / "b.csv", truth[:3]))!r},
            "--type", "relay", "--crs", "gcj02", "--dataset", {str(ds)!r}]
time.sleep(1.1)
main()
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = {p: p.read_bytes() for p in ds.rglob("*") if p.is_file()}
    assert {p: v for p, v in after.items() if p in before} == before  # old files untouched
    assert len(Atlas.load(ds).stations) == len(truth)
    from geo.io.datasets import list_versions

    assert len(list_versions(ds)) == 1  # the half-written one is not a version


def test_import_export_import_round_trips(tmp_path, truth):
    ds1 = tmp_path / "one"
    src = gbk_csv(tmp_path / "a.csv", truth)
    assert run("import", str(src), "--type", "relay", "--crs", "gcj02", "--dataset",
               str(ds1))[0] == 0
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"export.{fmt}"
        code, _, err = run("--data", str(ds1), "export", "--format", fmt, "-o", str(out))
        assert code == 0, err
        target = tmp_path / f"again-{fmt}"
        code, _, err = run("import", str(out), "--dataset", str(target))
        assert code == 0, err
        first = json.loads(next((ds1 / "versions").glob("*/stations.geojson")).read_text())
        again = json.loads(next((target / "versions").glob("*/stations.geojson")).read_text())
        assert again["features"] == first["features"]


def test_the_template_in_the_repo_imports(tmp_path):
    template = Path(__file__).parent.parent / "data" / "template" / "站点名单模板.xlsx"
    code, out, err = run("validate", str(template))
    assert code == 0, err
    assert "1 stations" in out


@pytest.mark.server
def test_a_running_server_keeps_its_version_until_restarted(tmp_path, truth):
    from app import create_app

    ds = tmp_path / "ds"
    assert run("import", str(gbk_csv(tmp_path / "a.csv", truth)), "--type", "relay", "--crs",
               "gcj02", "--dataset", str(ds))[0] == 0
    app = create_app({"STATIONS_DATA": str(ds), "STATIONS_TILES": "none"})
    count = lambda a: a.test_client().get("/api/stations?fields=id").get_json()["count"]  # noqa: E731
    assert count(app) == len(truth)
    time.sleep(1.1)
    assert run("import", str(gbk_csv(tmp_path / "b.csv", truth[:4])), "--type", "relay",
               "--crs", "gcj02", "--dataset", str(ds))[0] == 0
    assert count(app) == len(truth)  # one version at a time: the one it started with
    assert count(create_app({"STATIONS_DATA": str(ds), "STATIONS_TILES": "none"})) == 4
    assert not app.extensions["atlas"].is_sample
