"""Brotli or gzip for JSON and HTML responses: couriers are on phones, often on slow data."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request
from werkzeug.datastructures import Accept

from app.serving.assets import brotli

MIN_BYTES = 1024
TYPES = ("application/json", "application/geo+json", "text/html", "text/css",
         "application/javascript", "text/javascript", "text/csv")
BROTLI_QUALITY = 5  # per response, so fast: about gzip -6 speed, 10-20 % smaller


def encode(data: bytes, mimetype: str, accepted: Accept) -> tuple[bytes, str | None]:
    """The body in the best encoding the client takes (q-values honoured: "gzip;q=0" means
    no gzip), or unchanged (None) when it is small, not compressible or nothing is taken."""
    if mimetype not in TYPES or len(data) < MIN_BYTES:
        return data, None
    if brotli and accepted.quality("br") > 0:
        return brotli.compress(data, quality=BROTLI_QUALITY), "br"
    if accepted.quality("gzip") > 0:
        return gzip.compress(data, compresslevel=6, mtime=0), "gzip"
    return data, None


def _compress(response: Response) -> Response:
    """Compress a compressible, uncompressed response in the best encoding the client takes."""
    if (response.direct_passthrough or response.status_code < 200
            or "Content-Encoding" in response.headers
            or response.mimetype not in TYPES):
        return response
    data, coding = encode(response.get_data(), response.mimetype, request.accept_encodings)
    if coding is None:
        return response
    response.set_data(data)
    response.headers["Content-Encoding"] = coding
    response.headers["Content-Length"] = str(len(data))
    response.vary.add("Accept-Encoding")
    return response


def register(app: Flask) -> None:
    """Compress every eligible response."""
    app.after_request(_compress)
