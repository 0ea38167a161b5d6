"""Build the seeded SAMPLE stations and SAMPLE worker demand from documented rules.

Run: python data/build_sample.py   (reads data/districts.geojson; same seed, same output)

Nothing here is an official list: every station is named 示例… ("sample"), carries
source="sample", and sits where the model below puts it. See data/README.md for the rules
and the sources of every number and coordinate.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geo.io.districts import load_districts
from geo.io.export import write_atomic

HERE = Path(__file__).resolve().parent
SEED = 20261124
UPDATED = "2026-11-24"  # the data date pages show (the day this sample was generated)
EMPLOYED_TOTAL = 12_200_000  # Shanghai employed persons, 2013 (about)
H3_RES = 9

# Jobs per km2 of district land. Huangpu and Jing'an are the cited 2013 figures (about);
# the others are this model's assumptions, ranked by what is known of each district
# (core CBDs > inner districts > inner suburbs > outer suburbs > Chongming). Suburban values
# are then scaled together so the citywide total is EMPLOYED_TOTAL.
CORE_DENSITY = {"310101": 35_000, "310106": 39_000, "310104": 20_000, "310105": 15_000,
                "310109": 14_000, "310107": 10_000, "310110": 10_000}
SUBURB_DENSITY = {"310112": 3_500, "310115": 2_400, "310113": 2_200, "310114": 1_700,
                  "310117": 1_400, "310118": 900, "310120": 700, "310116": 450, "310151": 100}
INNER_SUBURBS = {"310112", "310113", "310115"}

# Worker segment shares (outdoor, office, industrial) by setting.
SPLIT = {
    "core": (0.14, 0.62, 0.24), "inner_suburb": (0.14, 0.40, 0.46),
    "outer_suburb": (0.16, 0.24, 0.60), "office": (0.10, 0.85, 0.05),
    "tech": (0.08, 0.62, 0.30), "hub": (0.40, 0.50, 0.10), "industrial": (0.06, 0.14, 0.80),
    "logistics": (0.75, 0.10, 0.15),
}


@dataclass(frozen=True)
class Hotspot:
    """A named place that concentrates workers: a Gaussian of `workers` over land cells."""

    name: str
    lat: float
    lon: float
    district: str  # code it must fall in: checked at build time
    workers: int
    sigma_km: float
    kind: str
    source: str


WIKI = "Wikipedia article coordinates"
HOTSPOTS = (
    Hotspot("Lujiazui", 31.2360, 121.5050, "310115", 250_000, 1.2, "office", WIKI),
    Hotspot("Nanjing West Rd / Jing'an Temple", 31.2235, 121.4455, "310106", 150_000, 0.9,
            "office", f"{WIKI} (Jing'an Temple)"),
    Hotspot("People's Square", 31.2317, 121.4737, "310101", 120_000, 0.9, "office", WIKI),
    Hotspot("Xujiahui", 31.1950, 121.4370, "310104", 120_000, 1.0, "office", WIKI),
    Hotspot("Hongqiao hub", 31.1945, 121.3205, "310112", 100_000, 1.5, "hub",
            f"{WIKI} (Shanghai Hongqiao railway station)"),
    Hotspot("Zhangjiang", 31.1900, 121.5880, "310115", 360_000, 2.5, "tech",
            f"{WIKI} (Zhangjiang Hi-Tech Park: 31.190 N, 121.588 E); ~360,000 workers"),
    Hotspot("Caohejing", 31.1680, 121.4250, "310104", 200_000, 1.5, "tech",
            "issue text (31.168 N, 121.425 E)"),
    Hotspot("Jinqiao", 31.2650, 121.6050, "310115", 150_000, 2.0, "industrial",
            f"{WIKI} (Jinqiao export processing zone, approximate centre)"),
    Hotspot("Lingang", 30.9000, 121.9300, "310115", 100_000, 3.0, "industrial",
            f"{WIKI} (Dishui Lake, Lingang new city centre)"),
    Hotspot("Anting", 31.2900, 121.1600, "310114", 120_000, 2.5, "industrial",
            f"{WIKI} (Anting town, Shanghai International Automobile City)"),
    Hotspot("Baosteel", 31.4000, 121.4500, "310113", 40_000, 2.0, "industrial",
            f"{WIKI} (Baoshan Iron & Steel works, approximate centre)"),
    Hotspot("Jiangnan shipyard (Changxing)", 31.3541, 121.7374, "310151", 30_000, 2.0,
            "industrial", f"{WIKI} (Jiangnan Shipyard, 31°21′15″N 121°44′15″E)"),
    Hotspot("COMAC Zhuqiao", 31.1050, 121.7700, "310115", 20_000, 1.5, "industrial",
            "COMAC final assembly base, south of Pudong airport (news reports; approximate)"),
    Hotspot("Huaxin express hub", 31.2400, 121.2200, "310118", 40_000, 1.5, "logistics",
            f"{WIKI} (Huaxin town, Qingpu; express-company headquarters)"),
    Hotspot("Zhaoxiang express hub", 31.1600, 121.1900, "310118", 30_000, 1.5, "logistics",
            f"{WIKI} (Zhaoxiang town, Qingpu)"),
    Hotspot("Songjiang G60", 31.0480, 121.2450, "310117", 80_000, 2.5, "tech",
            "G60 Science and Technology Innovation Valley, Songjiang new city (approximate)"),
)

# The five new towns; health points are weighted toward them (cells within NEW_TOWN_KM).
NEW_TOWNS = {"Jiading": (31.383, 121.250), "Qingpu": (31.150, 121.110),
             "Songjiang": (31.030, 121.225), "Fengxian": (30.918, 121.474),
             "Nanhui": (30.900, 121.930)}
NEW_TOWN_KM, NEW_TOWN_WEIGHT = 8.0, 3.0

STATION_COUNTS = {"relay": 1309, "health": 132, "fitness": 71}
MIN_PER_DISTRICT = {"relay": 8, "health": 2, "fitness": 1}
LABEL = {"relay": ("示例接力站", 4), "health": ("示例健康服务点", 3),
         "fitness": ("示例健身驿站", 2)}

# Hosts with their share and typical opening hours (OSM opening_hours syntax).
RELAY_HOSTS = {
    "bank": (0.30, ["Mo-Fr 08:30-11:00,13:30-17:00", "Mo-Fr 09:00-17:00; Sa 09:00-12:00"]),
    "telecom": (0.14, ["Mo-Su 09:00-21:00"]),
    "post": (0.10, ["Mo-Fr 08:30-17:00; Sa 09:00-12:00"]),
    "pharmacy": (0.10, ["Mo-Su 08:00-22:00"]),
    "supermarket": (0.09, ["Mo-Su 07:00-22:00"]),
    "subdistrict": (0.21, ["Mo-Fr 08:30-11:30,13:30-17:00", "Mo-Sa 08:30-17:00"]),
    "convenience": (0.06, ["24/7"]),
}
HEALTH_HOSTS = {"building": (0.55, ["Mo-Fr 09:00-17:00", "Mo-Fr 08:30-11:30,13:00-17:00"]),
                "park": (0.45, ["Mo-Fr 08:30-17:00", "Mo-Sa 08:30-16:30"])}
FITNESS_HOSTS = {"building": (0.6, ["Mo-Fr 07:00-21:00; Sa,Su 09:00-18:00"]),
                 "park": (0.4, ["Mo-Su 06:00-21:00"])}
HOSTS_BY_TYPE = {"relay": RELAY_HOSTS, "health": HEALTH_HOSTS, "fitness": FITNESS_HOSTS}
# Typical seats by host: a bank lobby corner or a telecom shop bench seats a few riders, a
# subdistrict service centre a room; health and fitness points are rooms in office buildings
# and parks. Each station gets 75-125 % of its host's figure.
SEATS_BY_HOST = {"bank": 8, "telecom": 6, "post": 6, "pharmacy": 4, "supermarket": 8,
                 "subdistrict": 16, "convenience": 4, "building": 30, "park": 20}

SIX = ["ac", "fridge", "microwave", "water", "charging", "seating"]  # the "6" of "6+X"
EXTRAS = {"relay": {"toilet": 0.5, "first_aid": 0.4, "wifi": 0.45},
          "health": {"toilet": 0.9, "first_aid": 1.0, "wifi": 0.6},
          "fitness": {"toilet": 0.9, "first_aid": 0.7, "wifi": 0.8}}


def land_cells(districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every res-9 H3 cell whose centre lies on a district's land, with its district."""
    rows = []
    for code, geom in zip(districts["code"], districts.geometry, strict=True):
        for cell in h3.geo_to_cells(geom, H3_RES):
            rows.append((cell, code))
    cells = pd.DataFrame(rows, columns=["h3", "district_code"]).drop_duplicates("h3")
    latlng = np.array([h3.cell_to_latlng(c) for c in cells["h3"]])
    cells["lat"], cells["lon"] = latlng[:, 0], latlng[:, 1]
    cells["area_km2"] = [h3.cell_area(c, "km^2") for c in cells["h3"]]
    return cells.sort_values("h3").reset_index(drop=True)


def km_between(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Local planar distance in km: fine for kernels a few km wide."""
    dy = (lat - lat0) * 111.195
    dx = (lon - lon0) * 111.195 * np.cos(np.radians(lat0))
    return np.hypot(dx, dy)


def district_targets(districts: gpd.GeoDataFrame) -> pd.Series:
    """Jobs per district: cited/assumed densities times land area, scaled to the city total."""
    area = districts.set_index("code")["area_km2"]
    core = pd.Series(CORE_DENSITY) * area[list(CORE_DENSITY)]
    suburb = pd.Series(SUBURB_DENSITY) * area[list(SUBURB_DENSITY)]
    suburb *= (EMPLOYED_TOTAL - core.sum()) / suburb.sum()
    return pd.concat([core, suburb])


def setting_of(code: str) -> str:
    """Which baseline segment split a district's background workers follow."""
    if code in CORE_DENSITY:
        return "core"
    return "inner_suburb" if code in INNER_SUBURBS else "outer_suburb"


def build_demand(cells: pd.DataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Workers per cell and segment: district baseline plus hotspots, totalling ~12.2 M."""
    segs = np.zeros((len(cells), 3))
    hot_in_district = pd.Series(0.0, index=districts["code"])
    for h in HOTSPOTS:
        kernel = np.exp(-0.5 * (km_between(cells.lat.values, cells.lon.values, h.lat, h.lon)
                                / h.sigma_km) ** 2)
        kernel[kernel < 1e-4] = 0.0
        mass = h.workers * kernel / kernel.sum()
        segs += mass[:, None] * np.array(SPLIT[h.kind])
        hot_in_district += pd.Series(mass).groupby(cells.district_code.values).sum()
    targets = district_targets(districts)
    base_total = np.maximum(targets - hot_in_district.reindex(targets.index).fillna(0),
                            0.2 * targets)
    area_d = cells.groupby("district_code")["area_km2"].sum()
    density = (base_total / area_d).reindex(cells.district_code).to_numpy()
    base = density * cells.area_km2.to_numpy()
    split = np.array([SPLIT[setting_of(c)] for c in cells.district_code])
    segs += base[:, None] * split
    segs *= EMPLOYED_TOTAL / segs.sum()
    out = cells[["h3", "district_code"]].copy()
    out[["outdoor", "office", "industrial"]] = np.rint(segs).astype(np.int64)
    return out


def apportion(weights: pd.Series, total: int, minimum: int) -> pd.Series:
    """Largest-remainder apportionment with a floor, so every district gets some stations."""
    n = pd.Series(minimum, index=weights.index)
    rest = total - n.sum()
    quota = weights / weights.sum() * rest
    n += np.floor(quota).astype(int)
    left = total - n.sum()
    order = (quota - np.floor(quota)).sort_values(ascending=False).index[:left]
    n[order] += 1
    return n


def place(cells: pd.DataFrame, districts: gpd.GeoDataFrame, weight: np.ndarray, total: int,
          minimum: int, rng: np.random.Generator) -> pd.DataFrame:
    """Pick cells by weight within each district, then a random point in the cell on land."""
    per_district = apportion(pd.Series(weight).groupby(cells.district_code.values).sum(),
                             total, minimum)
    picks = []
    for code, n in per_district.items():
        idx = np.flatnonzero(cells.district_code.values == code)
        p = weight[idx] / weight[idx].sum()
        picks.append(rng.choice(idx, size=n, replace=True, p=p))
    chosen = cells.iloc[np.concatenate(picks)].reset_index(drop=True)
    polys = districts.set_index("code").geometry
    lon, lat = chosen.lon.to_numpy().copy(), chosen.lat.to_numpy().copy()
    for _ in range(20):  # jitter within ~150 m of the cell centre, keep only points on land
        jlon = chosen.lon + rng.uniform(-1, 1, len(chosen)) * 0.0015
        jlat = chosen.lat + rng.uniform(-1, 1, len(chosen)) * 0.0013
        inside = shapely.contains_xy(polys.reindex(chosen.district_code).values, jlon, jlat)
        lon = np.where(inside, jlon, lon)
        lat = np.where(inside, jlat, lat)
        if inside.all():
            break
    chosen["lon"], chosen["lat"] = np.round(lon, 6), np.round(lat, 6)
    return chosen


def attributes(kind: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Host, opening hours, amenities and capacity by the documented mix for a type."""
    hosts = HOSTS_BY_TYPE[kind]
    names = list(hosts)
    host = rng.choice(names, size=n, p=[hosts[h][0] for h in names])
    hours = [hosts[h][1][rng.integers(len(hosts[h][1]))] for h in host]
    amenities = []
    for _ in range(n):
        have = [a for a in SIX if rng.random() < 0.93] if kind == "relay" else \
            [a for a in ("ac", "water", "seating") if rng.random() < 0.97]
        have += [a for a, p in EXTRAS[kind].items() if rng.random() < p]
        amenities.append(have)
    lo, hi = (4, 21) if kind == "relay" else (10, 41)
    draw = rng.integers(lo, hi, n)  # this draw keeps the seeded stream as it always was
    scale = 0.75 + 0.5 * (draw - lo) / (hi - 1 - lo)
    capacity = np.maximum(2, np.rint(np.array([SEATS_BY_HOST[h] for h in host]) * scale))
    capacity = capacity.astype(np.int64)
    return pd.DataFrame({"host": host, "opening_hours": hours, "amenities": amenities,
                         "capacity": capacity})


def build_stations(cells: pd.DataFrame, demand: pd.DataFrame,
                   districts: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Relay by outdoor workers; health by office+industrial, new towns x3; fitness by office."""
    near_new_town = np.zeros(len(cells), dtype=bool)
    for lat0, lon0 in NEW_TOWNS.values():
        near_new_town |= km_between(cells.lat.values, cells.lon.values, lat0, lon0) < NEW_TOWN_KM
    weights = {
        "relay": demand.outdoor.to_numpy(float),
        "health": (demand.office + demand.industrial).to_numpy(float)
        * np.where(near_new_town, NEW_TOWN_WEIGHT, 1.0),
        "fitness": demand.office.to_numpy(float),
    }
    names = districts.set_index("code")["name"]
    frames = []
    for kind, total in STATION_COUNTS.items():
        placed = place(cells, districts, weights[kind] + 1e-9, total, MIN_PER_DISTRICT[kind], rng)
        attrs = attributes(kind, total, rng)
        label, width = LABEL[kind]
        num = [f"{i + 1:0{width}d}" for i in range(total)]
        frames.append(pd.DataFrame({
            "id": [f"{kind}-{x}" for x in num], "name": [f"{label} {x}" for x in num],
            "type": kind, "district": names.reindex(placed.district_code).to_numpy(),
            "district_code": placed.district_code,
            "address": [f"{names[c]}（示例地址，非真实）" for c in placed.district_code],
            **{c: attrs[c] for c in attrs}, "phone": "", "source": "sample",
            "lon": placed.lon, "lat": placed.lat}))
    return pd.concat(frames, ignore_index=True)


def check_hotspots(districts: gpd.GeoDataFrame) -> None:
    """Every hotspot coordinate must fall inside the district it is named for."""
    polys = districts.set_index("code").geometry
    for h in HOTSPOTS:
        if not shapely.contains_xy(polys[h.district], h.lon, h.lat):
            raise SystemExit(f"hotspot {h.name} ({h.lat}, {h.lon}) is not in {h.district}")


def write_stations(stations: pd.DataFrame, path: Path) -> None:
    """GeoJSON with the sample flag at the top as well as on every feature."""
    feats = []
    for rec in stations.to_dict("records"):
        lon, lat = rec.pop("lon"), rec.pop("lat")
        rec["capacity"] = int(rec["capacity"])
        feats.append({"type": "Feature", "properties": rec,
                      "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    doc = {"type": "FeatureCollection", "name": "shanghai_worker_stations_sample",
           "sample": True, "updated": UPDATED,
           "description": "SAMPLE DATA: generated by data/build_sample.py (seed "
                          f"{SEED}); not the official station list.",
           "features": feats}
    write_atomic(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())


def main(argv: list[str] | None = None) -> None:
    """Build both sample files and print what came out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    districts = load_districts(HERE / "districts.geojson")
    check_hotspots(districts)
    cells = land_cells(districts)
    demand = build_demand(cells, districts)
    with tempfile.TemporaryDirectory(dir=out) as tmp:  # never a half-written file in place
        part = Path(tmp) / "demand.csv.gz"  # same name: gzip records it in its header
        demand.assign(source="sample").to_csv(part, index=False,
                                              compression={"method": "gzip", "mtime": 0})
        part.replace(out / "demand.csv.gz")
    stations = build_stations(cells, demand, districts, rng)
    write_stations(stations, out / "stations.geojson")
    by = demand.groupby("district_code")[["outdoor", "office", "industrial"]].sum()
    by["km2"] = districts.set_index("code")["area_km2"]
    by["jobs_per_km2"] = (by[["outdoor", "office", "industrial"]].sum(axis=1) / by.km2).round()
    counts = stations.pivot_table(index="district_code", columns="type", values="id",
                                  aggfunc="count").fillna(0).astype(int)
    print(f"{len(demand)} cells, {demand[['outdoor', 'office', 'industrial']].sum().sum():,} "
          f"workers; {len(stations)} stations")
    print(by.join(counts).to_string())


if __name__ == "__main__":
    main()
