"""Where checking runs: a thread pool with a bounded queue, and a small cache of
checked specs.

Checking is CPU-bound Python, so it runs off the event loop (which keeps
accepting and answering while a ResNet-50 is checked); Graphviz's `dot` runs as
a subprocess from the same threads. A request that would queue past the bound
is answered at once with 503 instead of waiting without limit. The page asks
for the table, then the diagram, then a layer's arithmetic of the same text: the
cache lets the three share one check.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import cnndsl
from cnndsl.serve.bodies import BadRequest


class Busy(BadRequest):
    """Every worker is busy and the queue is full: the client should retry."""

    def __init__(self) -> None:
        super().__init__("the server is busy; try again in a moment", 503)


class Results:
    """The last few check results, by (file name, text); safe across threads. Two
    requests for the same text at once (the table and the diagram) share one check."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._done: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._running: dict[tuple[str, str], Future] = {}
        self._lock = threading.Lock()

    def check(self, text: str, name: str):
        """`cnndsl.check(text, name)`, from the cache when the same text was just checked."""
        key = (name, text)
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
            if running is None:
                self._running[key] = mine = Future()
        if running is not None:   # its owner is already at work on another thread
            return running.result()
        try:
            result = cnndsl.check(text, name)
        except BaseException as exc:
            with self._lock:
                del self._running[key]
            mine.set_exception(exc)
            raise
        with self._lock:      # one step: a request in between would find neither and check again
            del self._running[key]
            _remember(self._done, key, result, self.size)
        mine.set_result(result)
        return result


class Drawings:
    """SVG by DOT source: editing a comment or a number that no label shows
    redraws nothing."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._done: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def svg(self, dot: str, render: Callable[[str], str]) -> str:
        """`render(dot)`, or the SVG it gave last time for the same source."""
        with self._lock:
            if dot in self._done:
                self._done.move_to_end(dot)
                return self._done[dot]
        svg = render(dot)
        with self._lock:
            _remember(self._done, dot, svg, self.size)
        return svg


def _remember(cache: OrderedDict, key, value, size: int) -> None:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)


class Workers:
    """A thread pool that refuses work beyond `queue` jobs waiting or running."""

    def __init__(self, threads: int | None = None, queue: int = 64) -> None:
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.queue = queue
        self.pending = 0        # only touched on the event loop's thread
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="cnndsl-serve")

    async def run(self, job: Callable[..., Any], *args) -> Any:
        """`job(*args)` on a worker thread; raises `Busy` when the queue is full."""
        if self.pending >= self.queue:
            raise Busy()
        self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, job, *args)
        finally:
            self.pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
