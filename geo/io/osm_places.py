"""Real places from OpenStreetMap (.osm or .osm.pbf, read with pyosmium): banks, post offices,
pharmacies, shops and community centres, as candidate sites or as a draft station list.

Nodes keep their position; ways (buildings, shop outlines) become their centroid. Real
`opening_hours` are kept where tagged (checked by the same parser as the station lists);
places without them, or with hours that do not parse, are flagged for the clerk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geo.errors import OsmPlacesError
from geo.hours import hours_error

# --hosts names -> (OSM key, value) pairs, and the station-list host category
HOST_TAGS: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "bank": ((("amenity", "bank"),), "bank"),
    "post_office": ((("amenity", "post_office"),), "post"),
    "pharmacy": ((("amenity", "pharmacy"), ("shop", "chemist")), "pharmacy"),
    "convenience": ((("shop", "convenience"),), "convenience"),
    "supermarket": ((("shop", "supermarket"),), "supermarket"),
    "community_centre": ((("amenity", "community_centre"), ("office", "government")),
                         "subdistrict"),
    "telecom": ((("shop", "mobile_phone"), ("office", "telecommunication")), "telecom"),
    "restaurant": ((("amenity", "restaurant"), ("amenity", "fast_food")), "restaurant"),
    "park": ((("leisure", "park"),), "park"),
}


@dataclass(frozen=True)
class Place:
    """One OSM place: its OSM id, host, name, WGS-84 position, hours and what is wrong."""

    osm_id: str
    host_key: str
    host: str
    name: str
    lon: float
    lat: float
    opening_hours: str
    flag: str  # "" when usable as is


def parse_hosts(text: str) -> list[str]:
    """Comma-separated --hosts names, checked."""
    names = [h.strip() for h in str(text).split(",") if h.strip()]
    unknown = [h for h in names if h not in HOST_TAGS]
    if unknown or not names:
        raise OsmPlacesError(f"unknown host {', '.join(unknown) or '(none)'}: use "
                             f"{', '.join(HOST_TAGS)}")
    return names


def _match(tags, hosts: list[str]) -> str | None:
    for key in hosts:
        if any(tags.get(k) == v for k, v in HOST_TAGS[key][0]):
            return key
    return None


def read_places(path: str | Path, hosts: list[str]) -> list[Place]:
    """Every node and way in the file tagged as one of `hosts`, in file order."""
    import osmium

    path = Path(path)
    if not path.is_file():
        raise OsmPlacesError(f"{path}: file not found")
    if not path.name.lower().endswith((".osm", ".osm.pbf", ".pbf", ".osm.bz2")):
        raise OsmPlacesError(f"{path.name}: use an .osm or .osm.pbf file")
    out: list[Place] = []
    try:
        for obj in osmium.FileProcessor(str(path)).with_locations():
            if obj.is_relation() or not len(obj.tags):
                continue
            tags = {t.k: t.v for t in obj.tags}
            key = _match(tags, hosts)
            if key is None:
                continue
            if obj.is_node():
                lon, lat = obj.location.lon, obj.location.lat
                oid = f"n{obj.id}"
            else:
                pts = [(n.location.lon, n.location.lat) for n in obj.nodes
                       if n.location.valid()]
                if not pts:
                    continue
                geom = shapely.Polygon(pts) if len(pts) >= 4 and pts[0] == pts[-1] \
                    else shapely.MultiPoint(pts)
                c = geom.centroid
                lon, lat = c.x, c.y
                oid = f"w{obj.id}"
            name = tags.get("name:zh") or tags.get("name") or tags.get("name:en") or ""
            hours = tags.get("opening_hours", "").strip()
            flag = ("no opening_hours in OSM" if not hours
                    else f"opening_hours {hours_error(hours)}" if hours_error(hours) else "")
            if not name:
                flag = "; ".join(f for f in (flag, "no name in OSM") if f)
            out.append(Place(oid, key, HOST_TAGS[key][1], name, float(lon), float(lat),
                             hours, flag))
    except RuntimeError as exc:  # libosmium's parse errors
        raise OsmPlacesError(f"{path.name}: cannot read as OSM data ({exc})") from exc
    return out


def candidates_geojson(places: list[Place]) -> dict:
    """Candidate sites for the planner's upload (points with name, host and OSM id)."""
    return {"type": "FeatureCollection", "source": "OpenStreetMap contributors (ODbL)",
            "features": [{"type": "Feature",
                          "geometry": {"type": "Point",
                                       "coordinates": [round(p.lon, 7), round(p.lat, 7)]},
                          "properties": {"osm_id": p.osm_id, "name": p.name, "host": p.host,
                                         "opening_hours": p.opening_hours, "flag": p.flag}}
                         for p in places]}


def station_rows(places: list[Place], station_type: str) -> list[dict]:
    """A draft station list in the import template's fields (ids from the OSM ids)."""
    return [{"id": f"osm-{p.osm_id}", "name": p.name, "type": station_type, "host": p.host,
             "lon": p.lon, "lat": p.lat, "opening_hours": p.opening_hours,
             "source": f"OpenStreetMap {p.osm_id}", "flag": p.flag}
            for p in places]


def counts(places: list[Place]) -> dict[str, int]:
    keys, n = np.unique([p.host_key for p in places], return_counts=True)
    return {str(k): int(v) for k, v in zip(keys, n, strict=True)}
