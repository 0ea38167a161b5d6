"""The library's error for a bad question, shared by every module that can refuse one.

A ValueError naming the parameter at fault: the web app maps it to a 400 JSON answer and the
CLI to one `error:` line and exit 2 (each in one place). It lives here, apart from the
parsers, so analysis modules can refuse a question without importing them.
"""

from __future__ import annotations


class QueryError(ValueError):
    """A bad parameter: `param` names it, the message says what would be accepted."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
