"""A location typed or pasted by a person: coordinates in a named datum, or a map share link.

Couriers paste what colleagues send them: "31.2304,121.4737", "gcj02 121.47,31.23", an Amap
`uri.amap.com/marker?position=lng,lat` link or a Baidu `map.baidu.com/?latlng=lat,lng` link.
Each becomes candidate points with the datum it is in; the caller converts to WGS-84. Bare
coordinates are ambiguous (GPS, Amap and Baidu all print plain numbers), so every datum is
offered unless the text names one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from geo.coords import CRS_NAMES
from geo.schema import CHINA_BOUNDS

_NUMBER = r"[-+]?\d{1,3}(?:\.\d+)?"
_PAIR = re.compile(rf"({_NUMBER})\s*[,，\s]\s*({_NUMBER})")
_DATUM_WORDS = {
    "wgs84": ("wgs84", "wgs-84", "wgs 84", "gps"),
    "gcj02": ("gcj02", "gcj-02", "gcj", "高德", "amap", "腾讯", "tencent", "火星"),
    "bd09": ("bd09", "bd-09", "bd09ll", "百度", "baidu"),
}
AMAP_HOSTS = ("amap.com", "autonavi.com")
BAIDU_HOSTS = ("baidu.com",)
MAX_TEXT = 2000


@dataclass(frozen=True)
class TextPoint:
    """A point as written: longitude, latitude, its datum, and what it was read from."""

    lon: float
    lat: float
    crs: str
    source: str  # "coords" or "link"


def _named_datum(text: str) -> str | None:
    """The datum a person named in the text ("高德 31.2,121.4"), if any."""
    low = text.lower()
    for crs, words in _DATUM_WORDS.items():
        if any(w in low for w in words):
            return crs
    return None


def _order(a: float, b: float) -> tuple[float, float] | None:
    """(lon, lat) from two numbers in either order, using the China box to tell them apart."""
    w, s, e, n = CHINA_BOUNDS
    if s <= a <= n and w <= b <= e:
        return b, a  # lat,lng: how most people and Baidu write it
    if w <= a <= e and s <= b <= n:
        return a, b  # lng,lat: how Amap and GeoJSON write it
    return None


def _host_is(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _first_pair(value: str, lat_first: bool) -> tuple[float, float] | None:
    """(lon, lat) from 'a,b' in a link parameter whose order the service defines."""
    m = _PAIR.search(value)
    if not m:
        return None
    a, b = float(m.group(1)), float(m.group(2))
    return (b, a) if lat_first else (a, b)


def parse_link(text: str) -> TextPoint | None:
    """A point from an Amap or Baidu link that carries coordinates; None for other text."""
    m = re.search(r"https?://\S+", text)
    if not m:
        return None
    parts = urlsplit(m.group(0))
    host = (parts.hostname or "").lower()
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if _host_is(host, AMAP_HOSTS):
        crs = "wgs84" if q.get("coordinate", "").lower() == "wgs84" else "gcj02"
        for key, lat_first in (("position", False), ("lnglat", False), ("center", False),
                               ("location", False), ("q", True), ("p", False)):
            if key in q and (pt := _first_pair(q[key], lat_first)):
                return TextPoint(*pt, crs, "link")
        if "lng" in q and "lat" in q and (pt := _first_pair(f"{q['lng']},{q['lat']}", False)):
            return TextPoint(*pt, crs, "link")
    if _host_is(host, BAIDU_HOSTS):
        kind = q.get("coord_type", "bd09ll").lower()
        crs = {"wgs84": "wgs84", "gcj02": "gcj02"}.get(kind, "bd09")
        for key in ("latlng", "location", "position"):
            if key in q and (pt := _first_pair(q[key].replace("latlng:", ""), True)):
                return TextPoint(*pt, crs, "link")
    return None


def parse_text_point(text: str) -> list[TextPoint]:
    """Candidate points in `text`: one for a link or a named datum, one per datum otherwise."""
    text = str(text)[:MAX_TEXT].strip()
    if not text:
        return []
    if re.search(r"https?://", text):
        pt = parse_link(text)
        return [pt] if pt else []
    m = _PAIR.search(text)
    if not m:
        return []
    pt = _order(float(m.group(1)), float(m.group(2)))
    if pt is None:
        return []
    named = _named_datum(text)
    return [TextPoint(*pt, crs, "coords") for crs in ((named,) if named else CRS_NAMES)]
