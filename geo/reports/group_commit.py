"""Group commit: many threads' small writes in one transaction, each answered once it is durable.

A commit costs a disk flush and, on SQLite, the one database lock. Handing each request its
own transaction made the threads of a worker queue on that lock (and on the GIL in between),
so a server did a few hundred writes a second. Here one writer thread per process takes every
write waiting, runs them in one transaction in a fixed order (the PostgreSQL advisory locks
they take are then always taken in the same order, so two processes cannot deadlock), commits,
and only then wakes each caller with its own result. If the transaction fails, every caller in
it gets the error: nothing is acknowledged that was not committed.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import sqlalchemy as sa

MAX_BATCH = 256
Work = Callable[[sa.Connection], Any]


class GroupCommit:
    """Runs submitted work in shared transactions on one thread (made per process)."""

    def __init__(self, begin: Callable[[], Any]) -> None:
        self._begin = begin  # a fresh `engine.begin()` context for each batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid = 0
        self._lock = threading.Lock()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (after a fork, anew)
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="group-commit", daemon=True).start()
                self._pid = os.getpid()

    def submit(self, key: int, work: Work) -> Any:
        """Run `work(conn)` in the next transaction; return its result once committed."""
        self._ensure_thread()
        done: Future = Future()
        self._queue.put((key, work, done))
        return done.result()

    def _run(self) -> None:
        q = self._queue
        while True:
            batch = [q.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(q.get_nowait())
                except queue.Empty:
                    break
            batch.sort(key=lambda item: item[0])
            try:
                with self._begin() as conn:
                    results = [work(conn) for _, work, _ in batch]
            except Exception as exc:  # every waiter hears of it; the thread carries on
                for _, _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, _, done), result in zip(batch, results, strict=True):
                done.set_result(result)
