"""`stations import-osm`: real OSM places as candidate sites or a draft station list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli.main import cli
from tests.osm_fixtures import lonlat

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "osm" / "shanghai"


def places_file(path: Path) -> Path:
    """A bank (node, hours), a post office (node, no hours), a pharmacy drawn as a square
    building (way, bad hours), a convenience store with a Chinese name, and a café (ignored)."""
    n = {}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']

    def node(nid, x, y, **tags):
        lon, lat = lonlat(x, y)
        n[nid] = (lon, lat)
        body = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
        lines.append(f'<node id="{nid}" version="1" lat="{lat:.8f}" lon="{lon:.8f}">{body}</node>')

    node(1, 0, 0, amenity="bank", name="工商银行", opening_hours="Mo-Fr 09:00-17:00")
    node(2, 100, 0, amenity="post_office", name="邮局")
    node(3, 200, 0, amenity="cafe", name="咖啡")
    node(4, 300, 0, shop="convenience", name="Lawson", name__zh="罗森",
         opening_hours="24/7")
    for nid, (x, y) in zip(range(10, 14), [(0, 100), (40, 100), (40, 140), (0, 140)],
                           strict=True):
        node(nid, x, y)
    lines.append('<way id="7" version="1">' + "".join(f'<nd ref="{r}"/>'
                                                      for r in (10, 11, 12, 13, 10))
                 + '<tag k="building" v="yes"/><tag k="amenity" v="pharmacy"/>'
                   '<tag k="name" v="药房"/><tag k="opening_hours" v="sometimes"/></way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), "utf-8")
    return path


def test_candidates_from_nodes_and_way_centroids(tmp_path):
    src = places_file(tmp_path / "places.osm")
    out = tmp_path / "cand.geojson"
    res = CliRunner().invoke(cli, ["import-osm", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    feats = {f["properties"]["osm_id"]: f for f in json.loads(out.read_text())["features"]}
    assert set(feats) == {"n1", "n2", "n4", "w7"}  # the café is not a host
    assert feats["n4"]["properties"]["name"] == "罗森"
    assert feats["n1"]["properties"]["flag"] == ""
    assert feats["n2"]["properties"]["flag"] == "no opening_hours in OSM"
    assert "opening_hours" in feats["w7"]["properties"]["flag"]
    cx, cy = lonlat(20, 120)  # the square building's centre
    x, y = feats["w7"]["geometry"]["coordinates"]
    assert abs(x - cx) < 1e-6 and abs(y - cy) < 1e-6
    assert feats["n1"]["properties"]["host"] == "bank" and "2 flagged" in res.output


def test_draft_station_list_imports_after_the_flagged_rows_are_fixed(tmp_path):
    import openpyxl

    src = places_file(tmp_path / "places.osm")
    draft = tmp_path / "draft.xlsx"
    res = CliRunner().invoke(cli, ["import-osm", str(src), "--as", "stations", "--type",
                                   "relay", "-o", str(draft)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["validate", str(draft), "--lang", "en"])
    assert res.exit_code == 2 and res.stderr.count("\nerror") + res.stderr.startswith(
        "error") >= 2
    wb = openpyxl.load_workbook(draft)
    ws = wb.active
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        cell = row[head.index("开放时间")]
        if not cell.value or cell.value == "sometimes":
            cell.value = "周一至周五 9:00-17:00"
    wb.save(draft)
    res = CliRunner().invoke(cli, ["validate", str(draft)])
    assert res.exit_code == 0 and "relay 4" in res.stdout


def test_unknown_hosts_and_files_are_one_line_errors(tmp_path):
    res = CliRunner().invoke(cli, ["import-osm", str(places_file(tmp_path / "p.osm")),
                                   "--hosts", "bank,casino", "-o", str(tmp_path / "x.geojson")])
    assert res.exit_code == 2 and "unknown host casino" in res.output
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node", "utf-8")
    res = CliRunner().invoke(cli, ["import-osm", str(bad), "-o", str(tmp_path / "x.geojson")])
    assert res.exit_code == 2 and res.output.startswith("error: ")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/osm is not beside this checkout")
def test_real_yangpu_extract(tmp_path):
    out = tmp_path / "cand.geojson"
    res = CliRunner().invoke(cli, ["import-osm", str(SHARED / "fudan_wujiaochang_yangpu.osm"),
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    feats = json.loads(out.read_text())["features"]
    assert len(feats) >= 10
    assert {f["properties"]["host"] for f in feats} >= {"bank", "post", "convenience"}
    for f in feats:
        lon, lat = f["geometry"]["coordinates"]
        assert 121.45 < lon < 121.56 and 31.26 < lat < 31.34  # Wujiaochang, Yangpu
