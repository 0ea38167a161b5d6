"""Rules every request meets before a view runs, and the small protocol courtesies after.

- A parameter that takes one value, given twice, is a 400 naming it (`lat=31.2&lat=999`
  must not quietly answer for 31.2); under /api an empty one is too (`type=`).
- A URL longer than MAX_URL is refused with 414 before anything parses it.
- OPTIONS under /api answers 204 with `Allow`.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.datastructures import MultiDict

from geo.errors import QueryError

MULTI_VALUED = frozenset({"amenity"})
MAX_URL = 4096


def check_args(args: MultiDict, api: bool) -> None:
    """A single-valued parameter given twice is a QueryError; under /api an empty one too
    (`type=` is not a type: leave the parameter out for the default)."""
    for key in args:
        values = args.getlist(key)
        if key not in MULTI_VALUED and len(values) > 1:
            raise QueryError(key, f"{key} may be given only once")
        if api and any(not v.strip() for v in values):
            raise QueryError(key, f"{key} is empty: give a value or leave the parameter out")


def url_too_long() -> dict:
    """The 414's JSON: the app's, and gunicorn's for request lines it refuses itself."""
    return {"error": f"the URL is longer than {MAX_URL} characters", "param": "url"}


def _check() -> Response | None:
    if len(request.full_path) > MAX_URL:
        resp = jsonify(url_too_long())
        resp.status_code = 414
        return resp
    if request.path.startswith(("/api/", "/embed/", "/oembed")):
        check_args(request.args, api=request.path.startswith("/api/"))
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
