"""A progress bar that appears only when the work turns out to take more than a second."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

import click

T = TypeVar("T")


class DelayedProgress:
    """Run named steps in order; after `delay` seconds, show a bar on stderr for the rest."""

    def __init__(self, total: int, delay: float = 1.0, stream=None) -> None:
        self.total, self.delay = total, delay
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.done = 0
        self.bar = None

    def step(self, label: str, work: Callable[[], T]) -> T:
        """Do one step, then advance (or start) the bar if we are past the delay."""
        result = work()
        self.done += 1
        if self.bar is None and time.monotonic() - self.start > self.delay \
                and self.done < self.total:
            self.bar = click.progressbar(length=self.total, label="working", file=self.stream,
                                         show_eta=False)
            self.bar.__enter__()
            self.bar.update(self.done - 1)
        if self.bar is not None:
            self.bar.label = label
            self.bar.update(1)
        return result

    def close(self) -> None:
        """Finish the bar line if one was shown."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
