"""Slow work cannot starve fast work: at most N heavy computations run at once per worker.

A question whose answer is cached is answered at once; a new heavy computation needs one of
STATIONS_HEAVY_MAX slots (default 2 per worker process; a computation nested in another
uses its slot) and, when none is free, the request is answered 503 with Retry-After at once:
never an unbounded queue of work whose clients may be long gone. The nearest-station path
never takes a slot.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from flask import current_app, g, request

RETRY_AFTER_S = 2
BUSY = "the server is busy with other heavy questions; retry in a few seconds"
_held = threading.local()  # a computation nested in another one uses its slot


class Busy(Exception):
    """Every heavy slot is taken: the client should retry shortly."""


class Checked(Exception):
    """A heavy view, run to check its parameters, reached its first heavy work: they are
    valid (everything a view reads from the request is read before any heavy work)."""


def checkpoint() -> None:
    """Where a heavy view's heavy work starts: a check run (`precheck`) stops here."""
    if g.get("precheck"):
        raise Checked


def precheck(view_args: dict | None = None):
    """Run the matched view up to its first heavy work, so a question that can never succeed
    is refused (400 naming the field) before any slot is taken, even when all are busy.
    Returns the view's answer when it needed no heavy work at all, else None."""
    view = current_app.view_functions[request.endpoint]
    g.precheck = True
    try:
        return view(**(request.view_args if view_args is None else view_args))
    except Checked:
        return None
    finally:
        g.precheck = False


def busy_answer() -> tuple[dict, list[tuple[str, str]]]:
    """The 503's JSON and its extra header (Flask's handler and the heavy-process gate)."""
    return {"error": BUSY, "retry_after_s": RETRY_AFTER_S}, [("Retry-After",
                                                               str(RETRY_AFTER_S))]


_create = threading.Lock()


def _per_app(app, name: str, make):
    """app.extensions[name], made on first use."""
    ext = app.extensions
    with _create:
        if name not in ext:
            ext[name] = make()
    return ext[name]


class Places:
    """At most `size` heavy requests in this process at once (taken without waiting), and a
    wait for none: background work (the hour slider's warm-up) goes between requests, never
    beside them. Measured: a warm-up beside a request in the same process made a new gap
    question take 0.65 s instead of 0.40 s, and under load the heavy-route child spent its
    small share of the CPU on warm-ups."""

    def __init__(self, size: int) -> None:
        self.size, self.taken = size, 0
        self._changed = threading.Condition()

    @property
    def free(self) -> int:
        return self.size - self.taken

    def acquire(self) -> bool:
        """Take a place if one is free; never waits."""
        with self._changed:
            if self.taken >= self.size:
                return False
            self.taken += 1
            return True

    def release(self) -> None:
        with self._changed:
            if self.taken <= 0:
                raise ValueError("a heavy place was given back twice")
            self.taken -= 1
            if not self.taken:
                self._changed.notify_all()

    def wait_until_none_taken(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self.taken)


def _slots() -> threading.BoundedSemaphore:
    """Heavy computations running in this worker."""
    app = current_app
    return _per_app(app, "heavy_slots", lambda: threading.BoundedSemaphore(
        int(app.config.get("STATIONS_HEAVY_MAX", 2))))


def needs_no_slot() -> None:
    """Mark this thread (the background warm-up) as taking no slot from requests."""
    _held.slot = True


@contextmanager
def heavy_slot():
    """Hold a slot for one heavy computation (one nested in it shares it); 503 if none free."""
    checkpoint()
    if getattr(_held, "slot", False):
        yield
        return
    slots = _slots()
    if not slots.acquire(blocking=False):
        raise Busy(BUSY)
    _held.slot = True
    try:
        yield
    finally:
        _held.slot = False
        slots.release()


def heavy_gate(app) -> Places:
    """Heavy-route requests in progress in this worker: Flask's gate below and the hand-off
    to heavy-route children (app/heavy_processes.py) take their places here."""
    return _per_app(app, "heavy_gate", lambda: Places(
        int(app.config.get("STATIONS_HEAVY_REQUESTS", 6))))


def enter_heavy_route() -> None:
    """Before a heavy route: at most STATIONS_HEAVY_REQUESTS (6) of them in a worker at once
    (computing, waiting for a shared computation, or sending a cached answer), so the
    worker's other threads stay free for the nearest-station path. Beyond: 503 at once."""
    if not heavy_gate(current_app).acquire():
        raise Busy(BUSY)
    g.heavy_gate = True


def leave_heavy_route(_exc=None) -> None:
    if g.pop("heavy_gate", False):
        heavy_gate(current_app).release()


def heavy_paths(app) -> frozenset[str]:
    """The heavy routes' paths (the document's 429/503s, the worker's child processes)."""
    names = app.extensions["heavy_blueprints"]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in names]
    if any(r.arguments for r in rules):
        raise ValueError("heavy routes are matched by path: give them no URL variables")
    return frozenset(r.rule for r in rules)


def register(app, heavy_blueprints) -> None:
    """Gate the heavy blueprints' routes (checked per app: blueprints are shared by apps)."""
    names = frozenset(bp.name for bp in heavy_blueprints)
    app.extensions["heavy_blueprints"] = names

    def gate():
        if request.blueprint in names and request.endpoint in current_app.view_functions:
            answered = precheck()  # parameters first: a bad one is a 400, never a 503
            if answered is not None:  # nothing heavy to do: answered without a place
                return answered
            enter_heavy_route()
        return None

    app.before_request(gate)
    app.teardown_request(leave_heavy_route)
