"""Errors become HTTP here, and only here: a `GeoError` is a 4xx JSON answer (status from its
class), an HTTP error is JSON under /api and a short page elsewhere, and anything else is a
bug: a 500 with a request id, logged with its traceback under the same id."""

from __future__ import annotations

import uuid

from flask import Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from app.i18n import STRINGS, current_lang, other_lang
from app.serving.busy import Busy, busy_answer
from app.serving.limits import retry_after_s
from app.state import current_atlas
from geo.errors import GeoError


def _wants_json() -> bool:
    """API routes always answer JSON."""
    return request.path.startswith("/api/")


def error_page(code: int, request_id: str | None = None):
    """A styled page in the visitor's language with a way home (404, 405, 500, ...)."""
    lang = current_lang()
    t = STRINGS[lang]
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    heading, message = ((t["not_found_title"], t["not_found"]) if code == 404
                        else (t["too_large_title"], t["too_large"].format(mb=limit))
                        if code == 413
                        else (t["server_error_title"], t["server_error"]) if code >= 500
                        else (str(code), t["bad_param"].format(p=request.path)))
    if request_id:
        message = f"{message} ({request_id})"
    try:
        sample = current_atlas().is_sample
    except Exception:  # an error page must render even if the atlas is what failed
        sample = False
    html = render_template("error.html", page="error", t=t, lang=lang, code=code,
                           heading=heading, message=message, sample=sample, map=None,
                           embed=False, other_lang=other_lang(lang))
    return html, code


def register(app: Flask) -> None:
    """Install handlers for bad parameters, HTTP errors and anything unexpected."""

    @app.errorhandler(GeoError)
    def bad_input(exc: GeoError):
        return jsonify(exc.as_json()), exc.status

    @app.errorhandler(Busy)
    def busy(exc: Busy):
        doc, headers = busy_answer()
        resp = jsonify({**doc, "error": str(exc)})
        resp.status_code = 503
        resp.headers.extend(headers)
        return resp

    @app.errorhandler(413)
    def too_large(exc: HTTPException):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        message = (f"the upload is larger than {limit} MB: split the list into several files, "
                   "or remove columns and sheets that are not needed")
        if _wants_json():
            return jsonify(error=message, param="file"), 413
        return error_page(413)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            message = exc.description or exc.name
            if exc.code == 429:
                message = (f"too many requests of this kind from this address or device (the "
                           f"limit is {message}); retry after the Retry-After seconds")
            resp = jsonify(error=message)
            resp.status_code = exc.code
            if exc.code == 429:
                resp.headers["Retry-After"] = str(getattr(exc, "retry_after", None)
                                                  or retry_after_s())
            if getattr(exc, "valid_methods", None):  # 405: say what is allowed
                resp.headers["Allow"] = ", ".join(exc.valid_methods)
            return resp
        if exc.code is None or exc.code < 400:
            return exc
        return error_page(exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        request_id = uuid.uuid4().hex[:12]
        app.logger.exception("unhandled error (request id %s)", request_id)
        if _wants_json():
            resp = jsonify(error=f"internal error; it has been logged as {request_id}",
                           request_id=request_id)
            resp.status_code = 500
        else:
            resp = make_response(error_page(500, request_id))
        resp.headers["X-Request-Id"] = request_id
        return resp
