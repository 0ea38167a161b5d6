"""Static files for phones on slow links: versioned URLs, cached for a year, sent compressed.

Every `url_for('static', ...)` gains `v=<content hash>`, so a changed file gets a new URL and
an unchanged one is never fetched twice. Files are read, hashed and compressed (gzip, and
brotli when the package is installed) once per process, then served from memory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join

try:  # brotli is optional: gzip alone is still a 3-4x saving
    import brotli
except ImportError:  # pragma: no cover - exercised only where brotli is missing
    brotli = None

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # an unversioned URL: the browser asks again, and gets a 304
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".html", ".txt", ".webmanifest")
MIN_BYTES = 512


@dataclass(frozen=True)
class Asset:
    """One static file in memory: its bytes, their encodings and its version."""

    body: bytes
    gzip: bytes | None
    br: bytes | None
    mimetype: str
    version: str


def encode(body: bytes, name: str, quality: int = 11) -> tuple[bytes | None, bytes | None]:
    """gzip and brotli forms of a compressible body (None where not worth it)."""
    if not name.endswith(COMPRESSIBLE) or len(body) < MIN_BYTES:
        return None, None
    gz = gzip.compress(body, compresslevel=9, mtime=0)
    br = brotli.compress(body, quality=quality) if brotli else None
    return gz, br


def pick_encoding(gz: bytes | None, br: bytes | None) -> tuple[bytes | None, str | None]:
    """The smallest encoding this client accepts (brotli first), or (None, None)."""
    accepted = request.accept_encodings  # q-values honoured: "gzip;q=0" refuses gzip
    if br is not None and accepted.quality("br") > 0:
        return br, "br"
    if gz is not None and accepted.quality("gzip") > 0:
        return gz, "gzip"
    return None, None


def versioned_response(body: bytes, mimetype: str, version: str, gz: bytes | None = None,
                       br: bytes | None = None) -> Response:
    """A response cached for a year when the URL carries the current version, else by ETag."""
    if request.if_none_match.contains(version):
        resp = Response(status=304)
    else:
        data, coding = pick_encoding(gz, br)
        resp = Response(data if coding else body, mimetype=mimetype)
        if coding:
            resp.headers["Content-Encoding"] = coding
    resp.set_etag(version)
    resp.vary.add("Accept-Encoding")
    resp.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == version else REVALIDATE
    return resp


class StaticFiles:
    """The app's static folder, loaded lazily file by file and kept in memory."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = str(folder)
        self.assets: dict[str, Asset] = {}

    def get(self, filename: str) -> Asset | None:
        """The asset, loading it on first use; None when no such file."""
        if filename not in self.assets:
            path = safe_join(self.folder, filename)
            if path is None or not Path(path).is_file():
                return None
            body = Path(path).read_bytes()
            gz, br = encode(body, filename)
            mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            if mimetype.startswith("text/") or mimetype == "application/javascript":
                mimetype += "; charset=utf-8"
            self.assets[filename] = Asset(body, gz, br, mimetype,
                                          hashlib.sha1(body).hexdigest()[:12])
        return self.assets[filename]

    def serve(self, filename: str) -> Response:
        """The static view: compressed, versioned, 404 for anything outside the folder."""
        asset = self.get(filename)
        if asset is None:
            abort(404)
        return versioned_response(asset.body, asset.mimetype, asset.version, asset.gzip,
                                  asset.br)


def register(app: Flask) -> None:
    """Replace Flask's static view and add `v=` to every static URL the templates build."""
    files = StaticFiles(app.static_folder)
    app.extensions["static_files"] = files
    app.view_functions["static"] = files.serve

    @app.url_defaults
    def _version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            asset = files.get(values.get("filename", ""))
            if asset is not None:
                values["v"] = asset.version


def document_response(key: str, version: str, build, mimetype: str = "application/json"
                      ) -> Response:
    """A JSON document that only changes with the data: serialised and compressed once."""
    cache = current_app.extensions.setdefault("documents", {})
    if (key, version) not in cache:
        body = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
        cache[(key, version)] = (body, *encode(body, ".json"))
    body, gz, br = cache[(key, version)]
    return versioned_response(body, mimetype, version, gz, br)
