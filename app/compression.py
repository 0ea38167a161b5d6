"""Gzip for JSON and HTML responses: couriers are on phones, often on slow mobile data."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

MIN_BYTES = 1024
TYPES = ("application/json", "application/geo+json", "text/html", "text/css",
         "application/javascript", "text/javascript")


def _compress(response: Response) -> Response:
    """Gzip a compressible, uncompressed response when the client accepts it."""
    if (response.direct_passthrough or response.status_code < 200
            or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or response.mimetype not in TYPES):
        return response
    data = response.get_data()
    if len(data) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.get_data()))
    response.vary.add("Accept-Encoding")
    return response


def register(app: Flask) -> None:
    """Compress every eligible response."""
    app.after_request(_compress)
