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


#: What the cache of check results may hold, in (estimated) bytes.
CACHE_BYTES = 256 * 2**20
#: A checked layer's footprint: ~1.4 KB measured with tracemalloc on a spec that
#: unrolls to 90,000 layers (`(relu * 300) * 300`: 128 MB); rounded up.
LAYER_BYTES = 1536


def footprint(text: str, result) -> int:
    """A check result's memory, estimated from its layer count (its text can be
    110 bytes and unroll to 90,000 layers)."""
    summary = getattr(result, "summary", None)
    layers = len(summary.rows) if summary is not None else elements(result.network)
    return 4 * len(text) + LAYER_BYTES * layers


def elements(root) -> int:
    """How many nodes a (resolved, perhaps partial) network holds; no recursion."""
    if root is None:
        return 0
    count, todo = 0, [root.body, *getattr(root, "outputs", ())]
    while todo:
        node = todo.pop()
        count += 1
        todo.extend(getattr(node, "items", ()))
        todo.extend(getattr(node, "branches", ()))
        body = getattr(node, "body", None)
        if body is not None:
            todo.append(body)
    return count


class Results:
    """The last check results, by (file name, text), within `budget` estimated bytes
    and `size` entries; safe across threads. Two requests for the same text at once
    (the table and the diagram) share one check."""

    def __init__(self, size: int = 16, budget: int = CACHE_BYTES) -> None:
        self.size = size
        self.budget = budget
        self.held = 0           # estimated bytes of what `_done` holds
        self._weights: dict[tuple[str, str], int] = {}
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
        weight = footprint(text, result)
        with self._lock:      # one step: a request in between would find neither and check again
            del self._running[key]
            self._keep(key, result, weight)
        mine.set_result(result)
        return result

    def _keep(self, key, result, weight: int) -> None:
        """Remember `result`, forgetting the oldest until the bounds hold (one over
        the budget alone is answered, never kept)."""
        if weight > self.budget:
            return
        self._done[key], self._weights[key] = result, weight
        self.held += weight
        while len(self._done) > self.size or self.held > self.budget:
            old, _ = self._done.popitem(last=False)
            self.held -= self._weights.pop(old)


class Drawings:
    """SVG by DOT source: editing a comment or a number that no label shows
    redraws nothing. At most `size` drawings of `budget` characters in all."""

    def __init__(self, size: int = 8, budget: int = 64 * 2**20) -> None:
        self.size = size
        self.budget = budget
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
            if len(dot) + len(svg) <= self.budget:
                self._done[dot] = svg
            while len(self._done) > self.size or \
                    sum(len(k) + len(v) for k, v in self._done.items()) > self.budget:
                self._done.popitem(last=False)
        return svg


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
