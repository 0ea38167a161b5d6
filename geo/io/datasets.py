"""Versioned datasets: each import is a new version beside the old ones, switched atomically.

    DIR/
      LIVE                      the live version's name (replaced by rename, never edited)
      versions/<version>/stations.geojson
      versions/<version>/demand.csv.gz  the demand, when one was imported (else the dataset's)
      versions/<version>/demand_profiles.csv  hourly presence shares, when imported
      versions/<version>/demand_hours.csv.gz   cells with their own hourly profile, if any
      versions/<version>/manifest.json   source file and sha256, counts, datum, time, importer

A version is written to a temporary directory, fsynced and renamed into place; then LIVE is
replaced by writing LIVE.tmp, fsyncing and renaming. A crash at any point leaves the previous
version live and intact. A directory without LIVE is a plain dataset (the embedded sample).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import DatasetError
from geo.io.demand import load_demand
from geo.io.demand_profiles import CELL_HOURS, PROFILES, load_cell_hours, load_profiles
from geo.io.districts import load_districts
from geo.io.stations import load_stations
from geo.schema import SEGMENTS

IMPORTER_VERSION = "1"
STATIONS = "stations.geojson"
DEMAND = "demand.csv.gz"
CARRIED = ("demand", "profiles")  # manifest entries a version keeps unless it replaces them
LIVE = "LIVE"
VERSIONS = "versions"


def is_versioned(directory: str | Path) -> bool:
    return (Path(directory) / LIVE).is_file()


def live_version(directory: str | Path) -> str:
    """The name of the live version."""
    name = (Path(directory) / LIVE).read_text("utf-8").strip()
    if not (Path(directory) / VERSIONS / name / "stations.geojson").is_file():
        raise DatasetError(f"{directory}: live version {name!r} is missing")
    return name


def live_dir(directory: str | Path) -> Path:
    """Where the live version's files are (the directory itself when not versioned).
    STATIONS_DATA_VERSION pins another complete version: a server worker that cannot load
    the live one serves the one before (app/cli/granian_app.py)."""
    directory = Path(directory)
    if not is_versioned(directory):
        return directory
    pinned = os.environ.get("STATIONS_DATA_VERSION")
    if pinned and (directory / VERSIONS / pinned / STATIONS).is_file():
        return directory / VERSIONS / pinned
    return directory / VERSIONS / live_version(directory)


def earlier_versions(directory: str | Path) -> list[str]:
    """The complete versions other than the live one, newest first: what to fall back on."""
    return [v["version"] for v in reversed(list_versions(directory)) if not v["live"]]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def stations_document(stations: pd.DataFrame, meta: dict) -> dict:
    """The GeoJSON a version stores (the loader's format, with the manifest's date)."""
    cols = ["id", "name", "type", "district", "district_code", "address", "host",
            "opening_hours", "amenities", "phone", "capacity", "source"]
    feats = []
    for rec, lon, lat in zip(stations[cols].to_dict("records"), stations["lon"],
                             stations["lat"], strict=True):
        rec = {k: (None if (v is pd.NA or (isinstance(v, float) and v != v)) else v)
               for k, v in rec.items()}
        rec["amenities"] = list(rec["amenities"])
        if rec["capacity"] is not None:
            rec["capacity"] = int(rec["capacity"])
        feats.append({"type": "Feature", "properties": rec,
                      "geometry": {"type": "Point",
                                   "coordinates": [round(float(lon), 7), round(float(lat), 7)]}})
    return {"type": "FeatureCollection", "updated": meta["created"][:10],
            "source_file": meta["source"], "features": feats}


def file_digest(path: str | Path) -> str:
    """The sha256 a manifest records, so a version names exactly what it was built from."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def station_counts(types: pd.Series) -> dict:
    """The manifest's `stations` and `by_type` from the stations' types."""
    return {"stations": len(types),
            "by_type": {str(k): int(v) for k, v in types.value_counts().items()}}


def write_version(directory: str | Path, stations: pd.DataFrame, source: Path, crs: str,
                  fail_before_switch: bool = False) -> str:
    """Write a new station list as a new version and make it live; the live demand (and its
    manifest entry) comes along unchanged. Returns its name; the old one stays on disk."""
    meta = {"source": Path(source).name, "sha256": file_digest(source), "crs": crs,
            **station_counts(stations["type"])}
    carried = _live_files(directory, (DEMAND, PROFILES, CELL_HOURS))
    return commit_version(directory, meta | _carried_meta(directory),
                          lambda m: {STATIONS: json.dumps(stations_document(stations, m),
                                                          ensure_ascii=False).encode(),
                                     **carried}, fail_before_switch)


def _carried_meta(directory: str | Path) -> dict:
    """The live manifest's demand and profile entries, which a new version keeps."""
    live = _live_manifest(directory)
    return {k: live[k] for k in CARRIED if live.get(k)}


def _gzip_csv(table: pd.DataFrame) -> bytes:
    """A table as gzipped CSV with no timestamp: the same table gives the same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(table.to_csv(index=False).encode())
    return buf.getvalue()


def _data_version(directory: str | Path, entry: str, entry_meta: dict, files: dict[str, bytes],
                  keep: tuple[str, ...], fail_before_switch: bool) -> str:
    """A new version with new demand-side files and the live stations (byte for byte) and
    the other files in `keep`; the manifest's `entry` records where the new files came from."""
    carried = _live_files(directory, (STATIONS, *keep))
    if STATIONS not in carried:
        raise DatasetError(f"{directory}: no station list to carry over")
    types = [f["properties"].get("type") for f in
             json.loads(carried[STATIONS].decode("utf-8"))["features"]]
    meta = {"source": entry_meta["source"], "sha256": entry_meta["sha256"],
            "crs": entry_meta.get("crs", "wgs84"), **station_counts(pd.Series(types)),
            **_carried_meta(directory), entry: entry_meta}
    return commit_version(directory, meta, lambda m: {**carried, **files}, fail_before_switch)


def write_demand_version(directory: str | Path, demand: pd.DataFrame, demand_meta: dict,
                         fail_before_switch: bool = False,
                         cell_hours: pd.DataFrame | None = None) -> str:
    """Write new demand as a new version and make it live; the stations and profiles come
    along as they are (byte for byte). `demand_meta` records its source file, sha256,
    segment, kind and totals; `cell_hours`, when given, replaces the own-profile cells."""
    files = {DEMAND: _gzip_csv(demand)}
    if cell_hours is not None and len(cell_hours):
        files[CELL_HOURS] = _gzip_csv(cell_hours)
    keep = (PROFILES,) if cell_hours is not None else (PROFILES, CELL_HOURS)
    return _data_version(directory, "demand", demand_meta, files, keep, fail_before_switch)


def write_profiles_version(directory: str | Path, profiles: pd.DataFrame, meta: dict) -> str:
    """Write new presence profiles as a new version; stations and demand come along."""
    return _data_version(directory, "profiles", meta,
                         {PROFILES: profiles.to_csv(index=False).encode()},
                         (DEMAND, CELL_HOURS), False)


def commit_version(directory: str | Path, meta: dict, files, fail_before_switch: bool = False
                   ) -> str:
    """Write `files(meta)` and the manifest to a new version directory, fsynced and renamed
    into place, then switch LIVE to it: a crash at any point leaves the old version live."""
    directory = Path(directory)
    (directory / VERSIONS).mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    name = created.replace(":", "").replace("-", "").replace("+0000", "Z")[:15] + \
        "-" + meta["sha256"][:8]
    meta = {"version": name, "created": created, **meta, "importer": IMPORTER_VERSION}
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=directory / VERSIONS))
    try:
        for fname, data in files(meta).items():
            _write(tmp / fname, data)
        _write(tmp / "manifest.json", json.dumps(meta, ensure_ascii=False, indent=1).encode())
        _fsync_dir(tmp)
        final = directory / VERSIONS / name
        os.rename(tmp, final)
        _fsync_dir(directory / VERSIONS)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if fail_before_switch:  # tests inject a crash here: the new version exists, LIVE is old
        raise RuntimeError("injected failure before the switch")
    use_version(directory, name)
    return name


def _live_files(directory: str | Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of the live version's files (or a plain dataset's) among `names`."""
    station_file = data_paths(directory)[1]
    where = {n: station_file.parent / n for n in (DEMAND, PROFILES, CELL_HOURS)}
    where[STATIONS] = station_file
    return {n: where[n].read_bytes() for n in names if where[n].is_file()}


def _live_manifest(directory: str | Path) -> dict:
    """The live version's manifest ({} for a plain dataset)."""
    man = live_dir(directory) / "manifest.json"
    return json.loads(man.read_text("utf-8")) if man.is_file() else {}


def demand_sources(directory: str | Path | None) -> dict[str, str]:
    """Where each segment's demand came from: `sample`, or the imported file's name."""
    d = Path(directory) if directory else None
    demand = _live_manifest(d).get("demand", {}) if d and d.is_dir() else {}
    return {seg: demand.get("sources", {}).get(seg, "sample") for seg in SEGMENTS}


def use_version(directory: str | Path, name: str) -> None:
    """Make `name` live by replacing LIVE with a rename (atomic on POSIX)."""
    directory = Path(directory)
    if not (directory / VERSIONS / name / "stations.geojson").is_file():
        known = ", ".join(v["version"] for v in list_versions(directory)) or "none"
        raise DatasetError(f"no version {name!r} in {directory}; versions: {known}")
    tmp = directory / f".{LIVE}.tmp"
    _write(tmp, (name + "\n").encode())
    os.replace(tmp, directory / LIVE)
    _fsync_dir(directory)


def list_versions(directory: str | Path) -> list[dict]:
    """Every complete version, oldest first: version, created, stations, source, live."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: no such dataset directory")
    live = (directory / LIVE).read_text("utf-8").strip() if is_versioned(directory) else None
    out = []
    for d in sorted((directory / VERSIONS).glob("*")) if (directory / VERSIONS).is_dir() else []:
        man = d / "manifest.json"
        if d.name.startswith(".") or not man.is_file():
            continue
        meta = json.loads(man.read_text("utf-8"))
        out.append({"version": meta["version"], "created": meta["created"],
                    "stations": meta["stations"], "by_type": meta.get("by_type", {}),
                    "source": meta["source"], "sha256": meta["sha256"], "crs": meta["crs"],
                    "demand": meta.get("demand"), "profiles": meta.get("profiles"),
                    "live": meta["version"] == live})
    return sorted(out, key=lambda v: v["created"])


DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


def data_paths(data: str | Path | None = None) -> tuple[Path, Path]:
    """(data dir, station file) from a directory, a station file, $STATIONS_DATA or the default.

    A versioned dataset directory (geo/datasets.py) gives its live version's station file.
    """
    data = Path(data or os.environ.get("STATIONS_DATA") or DEFAULT_DATA_DIR)
    if data.is_dir():
        return data, live_dir(data) / "stations.geojson"
    return DEFAULT_DATA_DIR, data


def load_tables(data: str | Path | None = None, crs: str = "wgs84"
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Stations, districts and demand of a dataset, without building any index."""
    data_dir, station_file = data_paths(data)
    return (load_stations(station_file, crs=crs),
            load_districts(_first((data_dir,), "districts.geojson")),
            load_demand(_first((station_file.parent, data_dir), DEMAND)))


def load_presence_tables(data: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A dataset's presence profiles (else the embedded defaults) and own-profile cells."""
    data_dir, station_file = data_paths(data)
    own = next((d / CELL_HOURS for d in (station_file.parent, data_dir)
                if (d / CELL_HOURS).is_file()), None)
    return (load_profiles(_first((station_file.parent, data_dir), PROFILES)),
            load_cell_hours(own))


def _first(dirs: tuple[Path, ...], name: str) -> Path:
    """A file from the live version or the dataset directory, else the embedded default."""
    return next((d / name for d in dirs if (d / name).exists()), DEFAULT_DATA_DIR / name)
