"""Versioned datasets: each import is a new version beside the old ones, switched atomically.

    DIR/
      LIVE                      the live version's name (replaced by rename, never edited)
      versions/<version>/stations.geojson
      versions/<version>/manifest.json   source file and sha256, counts, datum, time, importer

A version is written to a temporary directory, fsynced and renamed into place; then LIVE is
replaced by writing LIVE.tmp, fsyncing and renaming. A crash at any point leaves the previous
version live and intact. A directory without LIVE is a plain dataset (the embedded sample).
"""

from __future__ import annotations

import hashlib
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
from geo.io.districts import load_districts
from geo.io.stations import load_stations

IMPORTER_VERSION = "1"
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
    """Where the live version's files are (the directory itself when not versioned)."""
    directory = Path(directory)
    if not is_versioned(directory):
        return directory
    return directory / VERSIONS / live_version(directory)


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


def write_version(directory: str | Path, stations: pd.DataFrame, source: Path, crs: str,
                  fail_before_switch: bool = False) -> str:
    """Write a new version and make it live; returns its name. The old one stays on disk."""
    directory = Path(directory)
    (directory / VERSIONS).mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    name = created.replace(":", "").replace("-", "").replace("+0000", "Z")[:15] + \
        "-" + digest[:8]
    meta = {"version": name, "created": created, "source": Path(source).name,
            "sha256": digest, "crs": crs, "stations": len(stations),
            "by_type": {str(k): int(v) for k, v in stations["type"].value_counts().items()},
            "importer": IMPORTER_VERSION}
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=directory / VERSIONS))
    try:
        doc = stations_document(stations, meta)
        _write(tmp / "stations.geojson", json.dumps(doc, ensure_ascii=False).encode())
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
            load_districts(_first(data_dir, "districts.geojson")),
            load_demand(_first(data_dir, "demand.csv.gz")))


def _first(data_dir: Path, name: str) -> Path:
    """A file from the dataset directory, else the embedded default."""
    path = data_dir / name
    return path if path.exists() else DEFAULT_DATA_DIR / name
