"""The collector pause: nested and overlapping pauses, across threads."""

from __future__ import annotations

import gc
import threading

from cnndsl import collector


def test_pauses_nest_and_restore_the_collector():
    assert gc.isenabled()
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_end_with_the_collector_on():
    inside, release = threading.Event(), threading.Event()

    def hold():
        with collector.paused():
            inside.set()
            release.wait(60)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(60)
    with collector.paused():     # starts while the other pause is in force...
        release.set()
        worker.join(60)          # ...and outlives it
        assert not gc.isenabled()
    assert gc.isenabled()
