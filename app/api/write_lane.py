"""The couriers' writes at the WSGI level: check-ins and reports without Flask's per-request work.

A write's own work (check, count, store) is small beside Flask's request context, routing,
hooks and response object around it; under granian the writes answered at a quarter of a
bare WSGI app's rate. The lane answers the common case, a JSON body that checks out about a
known station within both limits, with the same status, headers and body as the Flask views
(tested byte for byte), through the same functions (app/api/reports.py, the limits'
counter). Everything else goes through Flask with the body as sent, so every error, rule and
message keeps one source: a query string, another content type, a body that is not JSON or
not a valid write, an unknown station, a limit reached, a failing database.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable

import orjson
from flask import Flask
from werkzeug.http import parse_options_header

from app.api import reports
from app.serving.json_provider import OPTIONS
from app.serving.limits import COUNTED, WriteLimited, key_of_device
from app.serving.security_headers import security_headers
from geo.errors import QueryError

PATH = re.compile(r"/api/stations/([^/]+)/(checkins|reports)")
MAX_BODY = 16_384  # a write's body is a few hundred bytes; anything larger goes to Flask
log = logging.getLogger(__name__)


def _body(environ: dict) -> bytes | None:
    """The request body when it is JSON of a stated, small length; None for Flask to read."""
    if environ.get("QUERY_STRING"):
        return None
    mimetype, _ = parse_options_header(environ.get("CONTENT_TYPE", ""))
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if mimetype != "application/json" or not 0 <= length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again if the lane hands over
    return body


class WriteLane:
    """WSGI middleware: answer couriers' valid writes, pass everything else to Flask."""

    def __init__(self, app: Flask, inner: Callable):
        self.inner = inner
        self.atlas = app.extensions["atlas"]
        self.store = app.extensions["reports"]
        self.limits = app.extensions["write_limits"]
        self.security = security_headers(app.config, embed=False, nonce=None)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match and environ.get("REQUEST_METHOD") == "POST":
            body = _body(environ)
            answered = None if body is None else self._answer(environ, *match.groups(), body)
            if answered is not None:
                status, body, headers = answered
                start_response(status, headers)
                return [body]
            if body is not None:
                environ["wsgi.input"].seek(0)
        return self.inner(environ, start_response)

    def _answer(self, environ: dict, station_id: str, kind: str, body: bytes
                ) -> tuple[str, bytes, list[tuple[str, str]]] | None:
        """The status, body and headers, or None for Flask to answer (and word any error)."""
        address = environ.get("REMOTE_ADDR")
        counted = address or "127.0.0.1"  # as the limiter's get_remote_address has it
        try:
            hours = reports.hours_of(self.atlas, station_id)
            payload = orjson.loads(body)
            write = reports.checked(kind, station_id, payload)
            self.limits(counted, key_of_device(payload, counted))
            environ[COUNTED] = True  # should Flask answer after all, it counts no more
        except WriteLimited as limited:  # counted once: Flask answers it with its message
            environ[COUNTED] = limited
            return None
        except (orjson.JSONDecodeError, QueryError):  # an unknown station, a bad body
            return None  # Flask counts it and answers with its message
        except Exception:
            log.exception("write lane failed; Flask answers instead")
            return None
        try:
            doc, status = reports.written(*write.record(self.store, hours, address or "-"))
        except Exception:  # nothing was stored: Flask tries again and words any error
            log.exception("write lane failed; Flask answers instead")
            return None
        out = orjson.dumps(doc, option=OPTIONS)
        return (f"{status} {'Created' if status == 201 else 'OK'}", out,
                [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
                 *self.security])


def install(app: Flask) -> None:
    """Put the lane in front of the app's WSGI callable (STATIONS_WRITE_LANE, default on)."""
    if app.config.get("STATIONS_WRITE_LANE", True):
        app.wsgi_app = WriteLane(app, app.wsgi_app)
