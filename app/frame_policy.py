"""Response security headers: who may frame us (embeds: anyone configured; everything else:
only us), no MIME sniffing, and a referrer policy that does not leak query strings."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

EMBED_BLUEPRINT = "embeds"


def _apply(response: Response) -> Response:
    """Embed routes: `frame-ancestors <config>` and no X-Frame-Options; others: same origin."""
    if request.blueprint == EMBED_BLUEPRINT:
        ancestors = current_app.config["STATIONS_FRAME_ANCESTORS"]
        response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        response.headers.pop("X-Frame-Options", None)
    else:
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def register(app: Flask) -> None:
    """Set the framing headers on every response."""
    app.after_request(_apply)
