"""Turn a clerk's table into a checked station list, with a report they can fix the file from.

Every problem names the row the clerk sees in Excel, the column, the value, the reason and a
hint, in Chinese or English. Errors stop the import (nothing is written); warnings do not.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coords import CRS_NAMES, degrees_to_metres, geodesic, to_wgs84
from geo.errors import HoursFormError
from geo.io.clerk_hours import normalise_hours
from geo.io.clerk_table import RawTable
from geo.io.clerk_words import amenities as read_amenities
from geo.io.clerk_words import header_field, host, station_type
from geo.io.stations import SAFE_ID
from geo.schema import amenity_bits

DISTRICT_TOLERANCE_M = 200.0
DUPLICATE_M = 30.0
LAND_TOLERANCE_M = 500.0  # piers and islands just off the simplified coastline still count

# reason key -> (English, Chinese); {v} is the value, other names are filled per problem
REASONS = {
    "missing_column": ("no {what} column", "缺少{what}列"),
    "empty_list": ("the list has no stations", "名单中没有站点"),
    "no_usable_rows": ("no row could be imported", "没有可导入的行"),
    "empty": ("is empty", "为空"),
    "not_number": ("{v!r} is not a number", "{v!r} 不是数字"),
    "not_pair": ("{v!r} is not a longitude,latitude pair", "{v!r} 不是“经度,纬度”"),
    "outside": ("({lon}, {lat}) is not on Shanghai's land", "({lon}, {lat}) 不在上海陆域内"),
    "type": ("{v!r} is not a station type", "{v!r} 不是站点类型"),
    "hours": ("{why}", "{why}"),
    "hours_converted": ("read as {osm!r}", "读作 {osm!r}"),
    "amenity": ("{words} not understood", "无法识别：{words}"),
    "host": ("{v!r} is not a known host; recorded as other", "{v!r} 不是已知的依托单位，记为其他"),
    "capacity": ("{v!r} is not a whole number >= 0", "{v!r} 不是非负整数"),
    "district_unknown": ("{v!r} is not a Shanghai district", "{v!r} 不是上海的区"),
    "district_disagrees": ("stated {v} but the coordinates are in {found}, {m:.0f} m away",
                           "填写为{v}，但坐标位于{found}，相距 {m:.0f} 米"),
    "id": ("{v!r} may only use letters, digits, - _ .", "{v!r} 只能包含字母、数字和 - _ ."),
    "id_repeat": ("{v!r} repeats row {other}", "{v!r} 与第 {other} 行重复"),
    "duplicate": ("same station as row {other} ({why})", "与第 {other} 行是同一站点（{why}）"),
    "merged": ("merged into row {other} ({why})", "已合并到第 {other} 行（{why}）"),
    "datum": ("{agree_other} of {n} rows fall in their stated district when read as "
              "{other}, only {agree} as {crs}: re-run with --crs {other}",
              "按 {other} 读取时有 {agree_other}/{n} 行落在所填的区内，按 {crs} 读取只有 "
              "{agree} 行：请加参数 --crs {other} 重新导入"),
}
HINTS = {
    "missing_column": ("name the column 名称/经度/纬度/类型/开放时间, or use --map column=field",
                       "列名用 名称/经度/纬度/类型/开放时间，或用 --map 列名=字段"),
    "type": ("use 爱心接力站, 健康服务点 or 健身驿站 (relay, health, fitness), or --type",
             "填写 爱心接力站、健康服务点 或 健身驿站，或使用 --type"),
    "hours": ("e.g. 周一至周五 9:00-17:00；节假日休息", "例如：周一至周五 9:00-17:00；节假日休息"),
    "outside": ("check the order (经度 121…, 纬度 31…) and the datum (--crs)",
                "检查经纬度顺序（经度 121…，纬度 31…）和坐标系（--crs）"),
    "district_unknown": ("use a name such as 杨浦区, Yangpu or a code such as 310110",
                         "填写如 杨浦区、Yangpu 或代码 310110"),
    "amenity": ("use 饮水, 微波炉, 冰箱, 充电, 空调, 厕所, 座椅, 急救, 无线网络 or 6+X",
                "可用：饮水、微波炉、冰箱、充电、空调、厕所、座椅、急救、无线网络，或 6+X"),
}


@dataclass
class Problem:
    """One finding: where (Excel row, sheet, column), what (value), why and how to fix it."""

    level: str  # error, warning, or info (what was converted: the clerk's original is kept)
    key: str
    row: int | None = None
    sheet: str = ""
    column: str = ""
    value: str = ""
    params: dict = field(default_factory=dict)

    def reason(self, lang: str = "en") -> str:
        en, zh = REASONS[self.key]
        return (zh if lang == "zh" else en).format(v=self.value, **self.params)

    def hint(self, lang: str = "en") -> str:
        en, zh = HINTS.get(self.key, ("", ""))
        return zh if lang == "zh" else en

    def as_dict(self, lang: str = "en") -> dict:
        return {"level": self.level, "row": self.row, "sheet": self.sheet,
                "column": self.column, "value": self.value, "reason": self.reason(lang),
                "hint": self.hint(lang), "code": self.key}


@dataclass
class ImportResult:
    """The stations (None when there is any error), every problem, and what was read."""

    stations: gpd.GeoDataFrame | None
    problems: list[Problem]
    rows: int
    crs: str
    points: list[dict] = field(default_factory=list)  # per row: Excel row, sheet, WGS-84, name

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return self.stations is not None and not self.errors


def column_map(headers: list[str], overrides: dict[str, str],
               field_of: Callable[[object], str | None] = header_field) -> dict[str, str]:
    """Schema field -> the clerk's column; --map column=field wins over recognised headers."""
    out: dict[str, str] = {}
    for h in headers:
        f = field_of(h)
        if f and f not in out:
            out[f] = h
    for col, f in overrides.items():
        out[f] = col
    return out


def stable_id(type_: str, name: str, lon: float, lat: float) -> str:
    """The same station imported again gets the same id (type, name, position to ~0.1 m)."""
    key = f"{type_}|{name}|{lon:.6f}|{lat:.6f}".encode()
    return f"{type_}-{hashlib.sha1(key).hexdigest()[:10]}"


def _floats(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values.str.replace("，", ".", regex=False), errors="coerce").to_numpy(
        float)


class RowProblems:
    """Per-row working state while a table is checked."""

    def __init__(self, table: RawTable) -> None:
        self.t = table
        self.problems: list[Problem] = []

    def add(self, level: str, key: str, i: int | None, column: str = "", value: object = "",
            **params) -> None:
        row = self.t.rows[i] if i is not None else None
        sheet = self.t.sheets[i] if i is not None else ""
        self.problems.append(Problem(level, key, row, sheet, column, str(value), params))


def table_coordinates(t: RawTable, cols: dict, r: RowProblems) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude as written (the file's datum), NaN where unreadable.

    Per row: the 经度/纬度 pair when filled, else a combined 坐标 cell ("121.47,31.23", in
    either order), so sheets with different layouts can be read together.
    """
    f = t.frame
    n = len(f)
    if not ("lon" in cols and "lat" in cols) and "coords" not in cols:
        r.add("error", "missing_column", None, what="经度/纬度 (lng/lat)")
        return np.full(n, np.nan), np.full(n, np.nan)
    blank = pd.Series([""] * n, index=f.index)
    lon_txt = f[cols["lon"]].astype(str).str.strip() if "lon" in cols else blank
    lat_txt = f[cols["lat"]].astype(str).str.strip() if "lat" in cols else blank
    pair_txt = f[cols["coords"]].astype(str).str.strip() if "coords" in cols else blank
    lon, lat = _floats(lon_txt).copy(), _floats(lat_txt).copy()
    use_pair = ((lon_txt == "") & (lat_txt == "") & (pair_txt != "")).to_numpy()
    unread = ~(np.isfinite(lon) & np.isfinite(lat))
    for i in np.flatnonzero(use_pair | unread):  # only rows that need a look, in row order
        if use_pair[i]:
            nums = re.findall(r"-?\d+(?:\.\d+)?", pair_txt.iat[i])
            if len(nums) != 2:
                r.add("error", "not_pair", i, cols["coords"], pair_txt.iat[i])
                continue
            a, b = float(nums[0]), float(nums[1])
            lon[i], lat[i] = (a, b) if a > b else (b, a)  # Shanghai: lon ~121 > lat ~31
            continue
        for name, txt, arr in (("lon", lon_txt, lon), ("lat", lat_txt, lat)):
            if not np.isfinite(arr[i]):
                column = cols.get(name, cols.get("coords", ""))
                r.add("error", "empty" if not txt.iat[i] else "not_number", i, column,
                      txt.iat[i])
    return lon, lat


def _land_district(lon: np.ndarray, lat: np.ndarray, districts: gpd.GeoDataFrame
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Index of the district containing each point (-1 off land) and metres to the nearest."""
    pts = shapely.points(lon, lat)
    geoms = np.asarray(districts.geometry.array)
    inside = np.full(len(pts), -1)
    tree = shapely.STRtree(geoms)
    ok = np.isfinite(lon) & np.isfinite(lat)
    pairs = tree.query(pts[ok], predicate="within")
    inside[np.flatnonzero(ok)[pairs[0]]] = pairs[1]
    near = np.full(len(pts), -1)
    gap = np.full(len(pts), np.inf)
    if ok.any():
        idx, dist = tree.query_nearest(pts[ok], return_distance=True, all_matches=False)
        near[np.flatnonzero(ok)[idx[0]]] = idx[1]
        gap[np.flatnonzero(ok)[idx[0]]] = degrees_to_metres(dist, lat[ok][idx[0]])
    return np.where(inside >= 0, inside, np.where(gap <= LAND_TOLERANCE_M, near, -1)), gap


def _stated_districts(values: pd.Series, districts: gpd.GeoDataFrame) -> np.ndarray:
    """District index per row from a name, English name or code; -1 unknown, -2 blank."""
    names = {}
    for j, d in enumerate(districts.itertuples()):
        for key in (d.name, d.name_en, d.code, d.name.removesuffix("区")):
            names[str(key).strip().lower()] = j
    return np.array([-2 if not str(v).strip() else names.get(str(v).strip().lower(), -1)
                     for v in values])


def _datum_warning(raw_lon, raw_lat, stated, crs, districts, r: RowProblems) -> None:
    """Warn when rows land in their stated district clearly more often under another datum."""
    have = stated >= 0
    if have.sum() < 3:
        return
    agree = {}
    for c in CRS_NAMES:
        wl, wt = to_wgs84(raw_lon[have], raw_lat[have], c)
        found, _ = _land_district(np.asarray(wl), np.asarray(wt), districts)
        agree[c] = int((found == stated[have]).sum())
    best = max(agree, key=agree.get)
    miss, best_miss = have.sum() - agree[crs], have.sum() - agree[best]
    if best != crs and miss >= 2 and best_miss * 3 <= miss:
        r.add("warning", "datum", None, "", crs, agree_other=agree[best], n=int(have.sum()),
              other=best, agree=agree[crs], crs=crs)


def import_table(t: RawTable, districts: gpd.GeoDataFrame, *, type_: str | None = None,
                 crs: str = "wgs84", mapping: dict[str, str] | None = None,
                 dedupe: bool = False, source: str = "import") -> ImportResult:
    """Check and convert every row; the stations only when no row has an error."""
    r = RowProblems(t)
    f = t.frame
    n = len(f)
    cols = column_map(list(f.columns), mapping or {})
    if n == 0:
        r.add("error", "empty_list", None)
        return ImportResult(None, r.problems, 0, crs)
    for need, what in (("name", "名称 (name)"), ("opening_hours", "开放时间 (opening_hours)")):
        if need not in cols:
            r.add("error", "missing_column", None, what=what)
    if type_ is None and "type" not in cols:
        r.add("error", "missing_column", None, what="类型 (type), or --type")
    raw_lon, raw_lat = table_coordinates(t, cols, r)
    if any(p.key == "missing_column" for p in r.problems):
        return ImportResult(None, r.problems, n, crs)
    text = {k: f[c].astype(str).str.strip() for k, c in cols.items()}
    blank = pd.Series([""] * n)
    names = text["name"]
    for i in np.flatnonzero((names == "").to_numpy()):
        r.add("error", "empty", i, cols["name"])
    # type
    if type_:
        types = np.array([type_] * n, dtype=object)
    else:
        types = np.array([station_type(v) for v in text["type"]], dtype=object)
        for i in [i for i, v in enumerate(types) if v is None]:
            r.add("error", "type", i, cols["type"], text["type"].iat[i])
    # hours
    hours = np.empty(n, dtype=object)
    for i, v in enumerate(text["opening_hours"]):
        try:
            hours[i] = normalise_hours(v)
        except HoursFormError as exc:
            r.add("error", "hours", i, cols["opening_hours"], v, why=str(exc))
            continue
        if hours[i] != v:
            r.add("info", "hours_converted", i, cols["opening_hours"], v, osm=hours[i])
    # amenities, host, capacity
    lists = []
    for i, v in enumerate(text.get("amenities", blank)):
        known, unknown = read_amenities(v)
        lists.append(known)
        if unknown:
            r.add("error", "amenity", i, cols.get("amenities", ""), v,
                  words="、".join(unknown))
    hosts = []
    for i, v in enumerate(text.get("host", blank)):
        h = host(v) if v else "other"
        if h is None:
            r.add("warning", "host", i, cols["host"], v)
        hosts.append(h or "other")
    cap = pd.to_numeric(text.get("capacity", blank), errors="coerce")
    for i in np.flatnonzero(((text.get("capacity", blank) != "")
                             & ~((cap >= 0) & (cap == cap.round())).fillna(False)).to_numpy()):
        r.add("error", "capacity", i, cols["capacity"], text["capacity"].iat[i])
    # coordinates -> WGS-84 -> district
    lon, lat = (np.asarray(v, float) for v in to_wgs84(raw_lon, raw_lat, crs))
    found, _ = _land_district(lon, lat, districts)
    for i in np.flatnonzero(np.isfinite(lon) & (found < 0)):
        r.add("error", "outside", i, cols.get("lon", cols.get("coords", "")),
              f"{raw_lon[i]}, {raw_lat[i]}", lon=raw_lon[i], lat=raw_lat[i])
    stated = _stated_districts(text.get("district", blank), districts)
    geoms = np.asarray(districts.geometry.array)
    for i in np.flatnonzero(stated == -1):
        r.add("error", "district_unknown", i, cols["district"], text["district"].iat[i])
    for i in np.flatnonzero((stated >= 0) & (found >= 0) & (stated != found)):
        pt = shapely.Point(lon[i], lat[i])
        metres = degrees_to_metres(shapely.distance(pt, geoms[stated[i]]), lat[i])
        if metres > DISTRICT_TOLERANCE_M:
            r.add("warning", "district_disagrees", i, cols["district"],
                  districts["name"].iat[stated[i]], found=districts["name"].iat[found[i]],
                  m=metres)
    _datum_warning(raw_lon, raw_lat, stated, crs, districts, r)
    # ids
    ids = np.empty(n, dtype=object)
    given = text.get("id", blank)
    for i in range(n):
        if given.iat[i]:
            if not SAFE_ID.match(given.iat[i]):
                r.add("error", "id", i, cols["id"], given.iat[i])
            ids[i] = given.iat[i]
        elif types[i] and np.isfinite(lon[i]):
            ids[i] = stable_id(types[i], names.iat[i], lon[i], lat[i])
    seen: dict[str, int] = {}
    for i, v in enumerate(ids):
        if v in seen:
            r.add("error", "id_repeat", i, cols.get("id", ""), v, other=t.rows[seen[v]])
        elif v:
            seen[v] = i
    keep = _duplicates(names.to_numpy(), lon, lat, t, r, dedupe, cols)
    points = [{"row": t.rows[i], "sheet": t.sheets[i], "name": names.iat[i],
               "lon": float(lon[i]), "lat": float(lat[i])}
              for i in range(n) if np.isfinite(lon[i]) and np.isfinite(lat[i])]
    if any(p.level == "error" for p in r.problems):
        return ImportResult(None, r.problems, n, crs, points)
    out = pd.DataFrame({
        "id": ids, "name": names.to_numpy(), "type": types,
        "district": districts["name"].to_numpy()[found],
        "district_code": districts["code"].to_numpy()[found],
        "opening_hours": hours, "address": text.get("address", blank).to_numpy(),
        "host": hosts, "phone": text.get("phone", blank).to_numpy(),
        "source": [v or source for v in text.get("source", blank)]})
    out["amenities"] = lists
    out["amenity_bits"] = np.array([amenity_bits(a) for a in lists], dtype=np.int64)
    out["capacity"] = pd.array(cap.to_numpy(float), dtype="Int64")
    out["lon"], out["lat"] = lon, lat
    out = out[keep].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]),
                           crs="EPSG:4326")
    return ImportResult(gdf, r.problems, n, crs, points)


def _duplicates(names, lon, lat, t: RawTable, r: RowProblems, dedupe: bool, cols: dict
                ) -> np.ndarray:
    """Same name within 30 m, or the same coordinates: reported, or merged with --dedupe."""
    n = len(names)
    keep = np.ones(n, dtype=bool)
    ok = np.isfinite(lon) & np.isfinite(lat)
    order = np.flatnonzero(ok)
    for a_pos, a in enumerate(order):
        if not keep[a]:
            continue
        rest = order[a_pos + 1:]
        rest = rest[keep[rest] & (np.abs(lon[rest] - lon[a]) < 0.001)
                    & (np.abs(lat[rest] - lat[a]) < 0.001)]
        if rest.size == 0:
            continue
        d, _ = geodesic(np.full(rest.size, lon[a]), np.full(rest.size, lat[a]), lon[rest],
                        lat[rest])
        for b, metres in zip(rest, d, strict=True):
            same_place = lon[b] == lon[a] and lat[b] == lat[a]
            if same_place or (names[b] == names[a] and metres <= DUPLICATE_M):
                why = "identical coordinates" if same_place else f"same name {metres:.0f} m apart"
                r.add("warning", "merged" if dedupe else "duplicate", b, cols.get("name", ""),
                      names[b], other=t.rows[a], why=why)
                if dedupe:
                    keep[b] = False
    return keep
