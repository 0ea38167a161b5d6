"""Station files: valid ones load, any bad row stops the load and is named."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.coords import wgs84_to_gcj02
from geo.errors import StationFileError
from geo.io.stations import load_stations


def feature(i: int, **overrides) -> dict:
    props = {"id": f"t-{i}", "name": f"Test {i}", "type": "relay", "district": "黄浦区",
             "district_code": "310101", "opening_hours": "24/7",
             "amenities": ["water", "ac"], "host": "bank", "capacity": 6, "source": "test"}
    lon, lat = overrides.pop("coords", (121.47 + i * 0.001, 31.23))
    props.update(overrides)
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def write(tmp_path: Path, feats: list[dict], name: str = "s.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), "utf-8")
    return path


def test_valid_file_loads_with_normalised_columns(tmp_path):
    gdf = load_stations(write(tmp_path, [feature(1), feature(2, amenities="wifi; toilet")]))
    assert list(gdf["id"]) == ["t-1", "t-2"]
    assert gdf.loc[1, "amenities"] == ["toilet", "wifi"]
    assert gdf.loc[0, "capacity"] == 6
    assert gdf.crs.to_epsg() == 4326


@pytest.mark.parametrize(("bad", "field", "fragment"), [
    ({"type": "relai"}, "type", "'relai' is not one of"),
    ({"id": ""}, "id", "missing or empty"),
    ({"id": "t-1"}, "id", "repeats row 1"),
    ({"opening_hours": "Mo-Fx 09:00-17:00"}, "opening_hours", "not valid opening_hours"),
    ({"amenities": ["water", "jacuzzi"]}, "amenities", "unknown 'jacuzzi'"),
    ({"district_code": "31010"}, "district_code", "6-digit"),
    ({"host": "casino"}, "host", "'casino' is not one of"),
    ({"capacity": -3}, "capacity", "whole number"),
    ({"coords": (31.23, 121.47)}, "geometry", "outside China"),
    ({"coords": ("x", 31.2)}, "geometry", "missing or not a Point"),
])
def test_one_bad_row_names_row_id_and_field(tmp_path, bad, field, fragment):
    feats = [feature(1), feature(2), feature(3, **bad)]
    with pytest.raises(StationFileError) as err:
        load_stations(write(tmp_path, feats))
    e = err.value
    assert (e.row, e.field) == (3, field)
    assert fragment in str(e)
    assert "row 3" in str(e) and f"'{field}'" in str(e)


def test_all_problems_are_counted(tmp_path):
    feats = [feature(1, type="x"), feature(2, opening_hours="nonsense"), feature(3)]
    with pytest.raises(StationFileError) as err:
        load_stations(write(tmp_path, feats))
    assert err.value.row == 1 and len(err.value.more) == 1
    assert "(and 1 more problems)" in str(err.value)


@pytest.mark.parametrize("content", ["not json", '{"type": "Feature"}', "[1, 2]"])
def test_unreadable_files_are_one_clear_error(tmp_path, content):
    path = tmp_path / "broken.geojson"
    path.write_text(content)
    with pytest.raises(StationFileError, match=r"broken\.geojson"):
        load_stations(path)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(StationFileError, match="file not found"):
        load_stations(tmp_path / "none.geojson")
    (tmp_path / "s.csv").write_text("id\n1\n")
    with pytest.raises(StationFileError, match=r"\.geojson or \.gpkg"):
        load_stations(tmp_path / "s.csv")


def test_gcj02_input_is_converted_to_wgs84(tmp_path):
    wlon, wlat = 121.4998, 31.2397
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    gdf = load_stations(write(tmp_path, [feature(1, coords=(float(glon), float(glat)))]),
                        crs="gcj02")
    assert gdf.loc[0, "lon"] == pytest.approx(wlon, abs=1e-9)
    assert gdf.loc[0, "lat"] == pytest.approx(wlat, abs=1e-9)


def test_geopackage_round_trip_and_bad_row(tmp_path):
    src = load_stations(write(tmp_path, [feature(1), feature(2)]))
    out = src.drop(columns=["amenity_bits", "lon", "lat"]).copy()
    out["amenities"] = out["amenities"].map(";".join)
    out["capacity"] = out["capacity"].astype(float)
    out.to_file(tmp_path / "s.gpkg", driver="GPKG")
    back = load_stations(tmp_path / "s.gpkg")
    assert list(back["id"]) == ["t-1", "t-2"]
    assert back.loc[0, "amenities"] == ["water", "ac"]
    np.testing.assert_allclose(back["lon"], src["lon"])
    out.loc[1, "type"] = "bus"
    out.to_file(tmp_path / "bad.gpkg", driver="GPKG")
    with pytest.raises(StationFileError, match=r"row 2 \(id 't-2'\) field 'type'"):
        load_stations(tmp_path / "bad.gpkg")


def test_non_point_geometry_in_geopackage_is_rejected(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["A"], "type": ["relay"], "district": ["黄浦区"],
         "district_code": ["310101"], "opening_hours": ["24/7"]},
        geometry=[shapely.box(121.4, 31.2, 121.5, 31.3)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "poly.gpkg", driver="GPKG")
    with pytest.raises(StationFileError, match=r"row 1 .*'geometry'"):
        load_stations(tmp_path / "poly.gpkg")
