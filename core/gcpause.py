"""Pause Python's cyclic garbage collector around bursts of allocation, safely across threads.

Building 100k small acyclic objects (summaries, sort keys, walk entries) triggers full collections
that traverse every live object again and again: with a 100k-run catalog in memory a sort spends
most of its time there. Reference counting still frees everything these bursts drop.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Collector off inside the block; back on when the last overlapping block (any thread) ends."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


_frozen = False


def freeze_long_lived() -> None:
    """Exempt every object alive now from future collections (``gc.freeze``), once per process.

    For a long session that keeps a big catalog in memory: without it, each full collection walks
    every summary and sorted order again, a pause of a few hundred ms at 100k runs that lands on
    whatever key was pressed. Objects freed later by reference counting are still freed, but cyclic
    garbage frozen with them never is: so this freezes only the first time (the big first load),
    and later calls do nothing.
    """
    global _frozen
    with _lock:
        if not _frozen:
            _frozen = True
            gc.freeze()
