"""The courier's hot path at the WSGI level: GET /api/nearest without Flask's per-request work.

Measured in-process (bench/load.py's notes): a straight-line answer costs about 0.3 ms,
while Flask's request context, routing, hooks and response object around it cost about
0.5 ms more. The lane answers the common case, a straight-line question whose parameters
parse, with the same status, headers and body as the Flask view (tested byte for byte,
compressed or not). Everything else goes through Flask unchanged, so every error, rule and
message keeps one source: a bad, repeated or unknown-mode parameter, a URL over the length
limit, HEAD or OPTIONS, and anything unexpected while answering.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

import orjson
from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_accept_header

from app.api import stations
from app.serving.compression import encode
from app.serving.json_provider import OPTIONS
from app.serving.request_rules import MAX_URL, check_args
from app.serving.security_headers import security_headers
from geo.errors import QueryError

PATH = "/api/nearest"
MIMETYPE = "application/geo+json"
log = logging.getLogger(__name__)


def _args(environ: dict) -> MultiDict | None:
    """The query's parameters as Flask would parse them; None when a request rule applies
    (too long, a parameter repeated or empty): Flask then answers with its message."""
    raw = environ.get("QUERY_STRING", "")
    if len(PATH) + 1 + len(raw) > MAX_URL:
        return None
    args = MultiDict(parse_qsl(raw.encode("latin-1").decode(errors="werkzeug.url_quote"),
                               keep_blank_values=True, errors="werkzeug.url_quote"))
    check_args(args, api=True)
    return args


class NearestLane:
    """WSGI middleware: answer straight-line /api/nearest questions, pass the rest to Flask."""

    def __init__(self, app: Flask, inner: Callable):
        self.app, self.inner = app, inner
        self.atlas = app.extensions["atlas"]
        self.security = security_headers(app.config, embed=False, nonce=None)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET":
            answered = self._answer(environ)
            if answered is not None:
                body, headers = answered
                start_response("200 OK", headers)
                return [body]
        return self.inner(environ, start_response)

    def _answer(self, environ: dict) -> tuple[bytes, list[tuple[str, str]]] | None:
        """The body and headers, or None for Flask to answer (and word any error)."""
        try:
            args = _args(environ)
            if args is None:
                return None
            q, out_crs, lang = stations.nearest_question(args)
            if q.mode != "straight":
                return None
            doc = stations.straight_answer(self.atlas, q, out_crs, lang)
        except QueryError:
            return None
        except Exception:  # Flask answers it again, through the one error handler
            log.exception("nearest lane failed; Flask answers instead")
            return None
        body = orjson.dumps(doc, option=OPTIONS)
        body, coding = encode(body, MIMETYPE,
                              parse_accept_header(environ.get("HTTP_ACCEPT_ENCODING")))
        headers = [("Content-Type", MIMETYPE), ("Content-Length", str(len(body)))]
        if coding:
            headers += [("Content-Encoding", coding), ("Vary", "Accept-Encoding")]
        return body, headers + self.security


def install(app: Flask) -> None:
    """Put the lane in front of the app's WSGI callable (STATIONS_NEAREST_LANE, default on)."""
    if app.config.get("STATIONS_NEAREST_LANE", True):
        app.wsgi_app = NearestLane(app, app.wsgi_app)
