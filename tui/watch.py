"""Follow the root while the app is open: new runs appear, runs being written update.

A worker thread watches the root with ``watchfiles`` (inotify, FSEvents, ReadDirectoryChangesW
through the Rust ``notify`` crate), which already coalesces a burst of writes into one batch.
Each batch is mapped to the records it touches: a changed file inside a known run re-reads that
run only (``Catalog.refresh_records``: one listing and one read), anything else (a new folder, a
sweep's files, a run removed) runs the catalog's quick walk, which re-lists only folders whose
time changed. Where watching is impossible (no inotify watches left, a network file system, a
root with more than :data:`WATCH_MAX_RECORDS` records, where one watch per folder costs more than
it saves) the same quick walk is polled, at an interval that keeps it under
:data:`POLL_SHARE` of one core. The app's screens hear of it through ``RecordsChanged``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import RunsiftApp

WATCH_MAX_RECORDS = 20_000
"""Above this many records the root is polled instead of watched (a watch per folder)."""
POLL_MIN = 2.0
"""Seconds between two polls at the least."""
POLL_SHARE = 0.05
"""Polling waits 1 / POLL_SHARE times as long as the last walk took: at most 5% of one core."""


class RootWatcher:
    """Watches (or polls) the app's root in a worker thread and reports changed records to the app."""

    def __init__(self, app: RunsiftApp, *, debounce_ms: int = 800, poll_min: float = POLL_MIN) -> None:
        self.app = app
        self.debounce_ms = debounce_ms
        self.poll_min = poll_min
        self.mode = "off"
        """``watch``, ``poll`` or ``off``; :attr:`why` says why polling was chosen."""
        self.why = ""
        self._stop = threading.Event()
        self._by_path: dict[str, str] = {}
        self._by_path_of: object = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start following the root in a daemon thread.

        Not a Textual worker: it runs as long as the app, and waiting for the app's workers (as
        tests and start-up code do) must not wait for it.
        """
        self._thread = threading.Thread(target=self._run_safely, name="runsift-watch", daemon=True)
        self._thread.start()

    def _run_safely(self) -> None:
        try:
            self._run()
        except Exception as exc:
            self.mode, self.why = "off", f"stopped: {type(exc).__name__}: {exc}"

    def _tell(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run ``callback`` on the UI thread, unless the app is already gone."""
        if self._stop.is_set():
            return
        try:
            self.app.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:  # the app closed meanwhile
            self._stop.set()

    def stop(self) -> None:
        """Stop at the next batch or poll (the thread notices within a step)."""
        self._stop.set()

    # -- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        root = str(self.app.root)
        count = self.app.catalog.count()  # a shared catalog counts in the database, not by reading every summary
        if count > WATCH_MAX_RECORDS:
            self.why = f"{count:,} records: polled, not watched"
        else:
            try:
                import watchfiles

                self.mode = "watch"
                for changes in watchfiles.watch(
                    root,
                    debounce=self.debounce_ms,
                    step=min(50, self.debounce_ms),
                    stop_event=self._stop,
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                    rust_timeout=1000,
                ):
                    self._handle({path for _change, path in changes})
                if self._stop.is_set():
                    return
                self.why = "the watch ended"
            except Exception as exc:
                self.why = f"cannot watch: {type(exc).__name__}: {exc}"
        self._poll()

    def _poll(self) -> None:
        self.mode = "poll"
        interval = self.poll_min
        while not self._stop.wait(interval):
            started = time.monotonic()
            self._handle((), walk=True)
            interval = max(self.poll_min, (time.monotonic() - started) / POLL_SHARE)

    # -- one batch -------------------------------------------------------------------------
    def _handle(self, paths: Iterable[str], *, walk: bool = False) -> None:
        """Re-read the records ``paths`` lie in (walk when one lies in none), then tell the app.

        A catalog read a page at a time (a shared one) re-reads no record alone, so any change is a walk: mapping
        the paths to records would read every summary (a million, ~15 s) to learn nothing."""
        ids: set[str] = set()
        unknown = True
        if self.app.catalog.page_rows is None:
            ids, unknown = self.records_of(paths)
        catalog = self.app.catalog
        try:
            with self.app.index_lock:
                changed, gone = catalog.refresh_records(sorted(ids))
                added = False
                if walk or unknown or gone:
                    stats = catalog.refresh()
                    added = bool(stats.added or stats.removed or stats.changed)
                    if stats.changed:  # which ones the walk does not say: every screen re-reads its own
                        changed.extend(gone)
        except Exception as exc:
            self._tell(self.app.notify, f"could not follow the changes: {exc}", severity="warning", markup=False)
            return
        if changed or added:
            self._tell(self.app.records_changed, frozenset(changed), added)

    def records_of(self, paths: Iterable[str]) -> tuple[set[str], bool]:
        """Ids of the runs the paths lie in, and whether any path lies in no run (a walk is needed)."""
        summaries = self.app.catalog.summaries()
        if self._by_path_of is not summaries:
            self._by_path = {r.path: r.id for r in summaries if r.kind == "run"}
            self._by_path_of = summaries
        root = str(self.app.root)
        ids: set[str] = set()
        unknown = False
        for path in paths:
            folder = path
            while len(folder) > len(root):
                if folder in self._by_path:
                    ids.add(self._by_path[folder])
                    break
                folder = os.path.dirname(folder)
            else:
                unknown = True
        return ids, unknown
