"""Errors: JSON with a 4xx status under /api, a short page elsewhere; never a bare 500."""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from geo.query import QueryError


def _wants_json() -> bool:
    """API routes always answer JSON."""
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Install handlers for bad parameters, HTTP errors and anything unexpected."""

    @app.errorhandler(QueryError)
    def bad_param(exc: QueryError):
        return jsonify(error=exc.message, param=exc.param), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _wants_json():
            return jsonify(error=exc.description or exc.name), exc.code
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        if _wants_json():
            return jsonify(error="internal error; it has been logged"), 500
        return "internal error; it has been logged", 500
