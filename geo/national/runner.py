"""Where national work runs: a dask cluster (local or remote), or this process alone.

The analysis code calls `Runner.map` / `submit` / `gather` and never knows which: with a
client they are dask futures (broadcast data scattered once, a text progress bar from dask's
diagnostics), without one the same functions run here one after another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from geo.errors import QueryError


def connect(scheduler: str, workers: int):
    """A dask client: a LocalCluster of `workers` processes ("local"), a running scheduler
    by address ("tcp://host:8786"), or None for this process alone ("none")."""
    if scheduler.lower() == "none":
        return None
    from distributed import Client, LocalCluster

    if scheduler.lower() in ("", "local"):
        if not 1 <= workers <= 256:
            raise QueryError("workers", f"workers must be between 1 and 256, got {workers}")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL)
        return Client(cluster)
    try:
        return Client(scheduler, timeout=10)
    except OSError as exc:
        raise QueryError("scheduler", f"no dask scheduler answered at {scheduler} ({exc})"
                         ) from exc


def close(client) -> None:
    """Shut down a client and, if it started one, its local cluster."""
    if client is None:
        return
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


class Runner:
    """Runs tasks on a dask client, or one after another here when there is none."""

    def __init__(self, client=None, progress: bool = False) -> None:
        self.client = client
        self.progress = progress

    def share(self, value):
        """Send a value to every worker once (broadcast), or keep it."""
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=True, hash=False)

    def map(self, fn: Callable, *iterables: Iterable, **kwargs) -> list:
        """fn(*items, **kwargs) for the items of the iterables taken together (futures among
        kwargs are resolved on the worker): futures on a cluster, values here."""
        columns = [list(i) for i in iterables]
        if self.client is None:
            return [fn(*items, **kwargs) for items in zip(*columns, strict=True)]
        if not columns or not columns[0]:
            return []
        return self.client.map(fn, *columns, pure=False, **kwargs)

    def submit(self, fn: Callable, *args, **kwargs):
        """One task: a future on a cluster, the value here."""
        if self.client is None:
            return fn(*args, **kwargs)
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def gather(self, items: list) -> list:
        """Values of futures (shown with a progress bar), or the values themselves."""
        if self.client is None:
            return items
        self._show(items)
        return self.client.gather(items)

    def _show(self, futs: list) -> None:
        """A text progress bar from dask's diagnostics, for long runs in a terminal."""
        if self.progress and futs:
            from distributed import progress

            progress(futs, notebook=False)
            print(flush=True)
