"""Errors: JSON with a 4xx status under /api, a short page elsewhere; never a bare 500."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.busy import Busy, busy_answer
from app.i18n import STRINGS, current_lang
from app.limits import retry_after_s
from geo.query import QueryError


def _wants_json() -> bool:
    """API routes always answer JSON."""
    return request.path.startswith("/api/")


def error_page(code: int):
    """A styled page in the visitor's language with a way home (404, 405, 500, ...)."""
    lang = current_lang()
    t = STRINGS[lang]
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    heading, message = ((t["not_found_title"], t["not_found"]) if code == 404
                        else (t["too_large_title"], t["too_large"].format(mb=limit))
                        if code == 413
                        else (t["server_error_title"], t["server_error"]) if code >= 500
                        else (str(code), t["bad_param"].format(p=request.path)))
    try:
        from app import current_atlas
        sample = current_atlas().is_sample
    except Exception:  # an error page must render even if the atlas is what failed
        sample = False
    html = render_template("error.html", page="error", t=t, lang=lang, code=code,
                           heading=heading, message=message, sample=sample, map=None,
                           embed=False, other_lang="en" if lang == "zh" else "zh")
    return html, code


def register(app: Flask) -> None:
    """Install handlers for bad parameters, HTTP errors and anything unexpected."""

    @app.errorhandler(QueryError)
    def bad_param(exc: QueryError):
        return jsonify(error=exc.message, param=exc.param), 400

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
        app.logger.exception("unhandled error")
        if _wants_json():
            return jsonify(error="internal error; it has been logged"), 500
        return error_page(500)
