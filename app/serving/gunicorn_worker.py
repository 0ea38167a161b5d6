"""gunicorn's threaded worker, answering gunicorn's own refusals in the API's JSON shape.

A request line or headers too long, or a malformed request, never reach the app: gunicorn
answers them itself, with an HTML page (a 10 KB `lat=` was `<html>… URI Too Long`). This
worker writes them as the app writes its errors: JSON with `error` (the offending text cut
to geo.questions.MAX_SHOWN characters) and, for a URL too long, the app's own words and `param`.
"""

from __future__ import annotations

import orjson
from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from app.serving.request_rules import url_too_long
from geo.questions import shown


def json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, with a JSON body."""
    doc = url_too_long() if status_int == 414 else {
        "error": f"{reason}: {shown(mesg)}" if mesg else reason}
    body = orjson.dumps(doc)
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


class Worker(ThreadWorker):
    """gunicorn's gthread worker; only its error page differs."""

    def init_process(self) -> None:
        util.write_error = json_error  # the one function gunicorn writes every refusal with
        super().init_process()
