"""Rules every request meets before a view runs, and the small protocol courtesies after.

- A parameter that takes one value, given twice, is a 400 naming it (`lat=31.2&lat=999`
  must not quietly answer for 31.2).
- A URL longer than MAX_URL is refused with 414 before anything parses it.
- OPTIONS under /api answers 204 with `Allow`.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from geo.query import QueryError

MULTI_VALUED = frozenset({"amenity"})
MAX_URL = 4096


def _check() -> Response | None:
    if len(request.full_path) > MAX_URL:
        resp = jsonify(error=f"the URL is longer than {MAX_URL} characters", param="url")
        resp.status_code = 414
        return resp
    if request.path.startswith(("/api/", "/embed/", "/oembed")):
        for key in request.args:
            if key not in MULTI_VALUED and len(request.args.getlist(key)) > 1:
                raise QueryError(key, f"{key} may be given only once")
    return None


def _options(response: Response) -> Response:
    if request.method == "OPTIONS" and request.path.startswith("/api/") \
            and response.status_code == 200:
        response.status_code = 204
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
    return response


def register(app: Flask) -> None:
    app.before_request(_check)
    app.after_request(_options)
