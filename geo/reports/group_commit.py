"""Group commit: many threads' small writes in one transaction, each answered once it is durable.

A commit costs a disk flush and, on SQLite, the one database lock. Handing each request its
own transaction made the threads of a worker queue on that lock (and on the GIL in between),
so a server did a few hundred writes a second. Here one writer thread per process takes every
write waiting, runs them in one transaction (the caller's `run` handles the whole batch at
once, in a few statements), commits, and only then wakes each caller with its own result.
If the transaction fails, every caller in it gets the error: nothing is acknowledged that was
not committed.
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


class GroupCommit:
    """Runs submitted items in shared transactions on one thread (made per process):
    `run(conn, items)` answers each item of a batch, in order."""

    def __init__(self, begin: Callable[[], Any],
                 run: Callable[[sa.Connection, list[Any]], list[Any]]) -> None:
        self._begin = begin  # a fresh `engine.begin()` context for each batch
        self._run_batch = run
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

    def submit(self, item: Any) -> Any:
        """Run `item` in the next transaction; return its answer once committed."""
        self._ensure_thread()
        done: Future = Future()
        self._queue.put((item, done))
        return done.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            try:
                results = self._commit(batch)
            except Exception as exc:  # every waiter hears of it; the thread carries on
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                done.set_result(result)

    def _drain(self, batch: list) -> list[Any]:
        """Add what else is waiting to `batch` (in place, so a failure reaches every waiter):
        once the transaction is open, so writes that came while it waited for its turn (the
        other process's batch, on SQLite) join it rather than wait for the next one."""
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return [item for item, _ in batch]

    def _commit(self, batch: list) -> list[Any]:
        """Run a batch in one transaction; once more on a fresh connection if the database
        dropped the connection (a restarted server): nothing of it was committed, or, if the
        COMMIT itself was cut off, the writes are found again as repeats."""
        try:
            with self._begin() as conn:
                return self._run_batch(conn, self._drain(batch))
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with self._begin() as conn:
            return self._run_batch(conn, self._drain(batch))
