"""The collector pause nests across threads and always restores the collector."""

from __future__ import annotations

import gc
import threading

import pytest

from runsift.core.gcpause import paused_gc


def test_overlapping_pauses_in_two_threads_restore_the_collector_only_at_the_end() -> None:
    assert gc.isenabled()
    inner_entered, outer_may_leave = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            inner_entered.set()
            outer_may_leave.wait(5)

    with paused_gc():
        thread = threading.Thread(target=other)
        thread.start()
        inner_entered.wait(5)
    assert not gc.isenabled()  # the other thread is still inside its pause
    outer_may_leave.set()
    thread.join(5)
    assert gc.isenabled()


def test_an_error_inside_still_restores_the_collector() -> None:
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_freezing_happens_once_per_process() -> None:
    from runsift.core.gcpause import freeze_long_lived

    freeze_long_lived()
    frozen = gc.get_freeze_count()
    keep = [[i] for i in range(1000)]  # new objects, not to be frozen by a second call
    freeze_long_lived()
    assert gc.get_freeze_count() == frozen
    assert keep
