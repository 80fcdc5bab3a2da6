"""The runsift terminal app: browse runs, open one, diff two.

The app owns the catalog, the remembered state (marks, filter, sort) and navigation: screens
post the requests of :mod:`runsift.tui.messages` and the app pushes the screen that answers
them, so no screen imports another. While it is open the app watches the root
(:mod:`runsift.tui.watch`) and tells every open screen which records changed.
"""

from __future__ import annotations

import os
import threading
from multiprocessing import resource_tracker
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App
from textual.binding import Binding

from runsift.core.backend import Backend
from runsift.core.catalog import Catalog
from runsift.core.records import ABTest, Sweep

from .commands import RunsProvider
from .messages import (
    OpenAB,
    OpenDiff,
    OpenRecord,
    OpenSweep,
    PickColumns,
    PickProject,
    RecordsChanged,
)
from .safe import visible
from .screens.columns import ColumnPicker
from .screens.diff import DiffScreen
from .screens.experiments import ABScreen, SweepScreen
from .screens.help import HelpScreen, help_markdown
from .screens.project import ProjectPicker
from .screens.record import RecordScreen
from .screens.runs import RunsScreen
from .state import AppState, state_location
from .trouble import show_trouble
from .watch import RootWatcher

if TYPE_CHECKING:  # the remote hook imports fsspec's side of runsift: not for a local folder's start-up
    from .remote_args import RemoteSync


class RunsiftApp(App[None]):
    """Browse, compare and explain experiment runs below one root folder."""

    TITLE = "runsift"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {RunsProvider}
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+p", "command_palette", "Jump", show=False),
    ]

    def __init__(
        self,
        root: Path,
        *,
        cache_dir: Path | None = None,
        use_cache: bool = True,
        state_dir: Path | None = None,
        rescan: bool = False,
        watch: bool = True,
        watch_debounce_ms: int = 800,
        shown_root: str | None = None,
        catalog: Backend | None = None,
        sync: RemoteSync | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(os.path.realpath(root))
        self.rescan_at_start = rescan
        """List every file on the first indexing instead of trusting folder times (``--rescan``)."""
        self.sync = sync
        """Brings a remote root's mirror (``root``) up to date: run before each indexing, in the background."""
        self.catalog: Backend = catalog if catalog is not None else Catalog.open(self.root, cache_dir=cache_dir, use_cache=use_cache, refresh=False)
        """The records shown: the local cache of ``root`` unless a backend (a shared catalog) is given."""
        where = state_location(self.root, state_dir)
        self.state_path, self.state_warning = where.path, where.warning
        self.state = AppState.load(self.state_path)
        if shown_root is None and not self.catalog.reachable:  # a shared catalog read elsewhere: "team:", not a local folder
            shown_root = str(self.catalog.root)
        self.sub_title = visible(shown_root or self.root, one_line=True)
        self.index_lock = threading.Lock()
        """Held by whoever refreshes the catalog (the runs screen's indexing, the watcher): one at a time."""
        self.watcher = RootWatcher(self, debounce_ms=watch_debounce_ms) if watch else None
        if os.environ.get("NO_COLOR"):
            self.theme = "textual-ansi" if "textual-ansi" in self.available_themes else self.theme

    def on_load(self) -> None:
        # A cold index of many runs reads them in worker processes (runsift.core.rows), which need multiprocessing's
        # resource tracker. It can be started only while sys.stderr is a real file: once the app runs, Textual's
        # capture stands in, whose fileno() is -1, and the index failed ("bad value(s) in fds_to_keep"). POSIX only:
        # elsewhere multiprocessing keeps no such tracker.
        if os.name == "posix":
            resource_tracker.ensure_running()

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())
        if self.state_warning:
            self.notify(visible(self.state_warning, one_line=True), severity="warning", timeout=10, markup=False)
        if self.watcher is not None:
            self.watcher.start()

    def save_state(self) -> None:
        """Persist marks, filter and sort (outside the runs folder)."""
        self.state.save(self.state_path)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(help_markdown(self, self.screen)))

    # -- navigation: screens ask, the app opens ------------------------------------------
    def open_record(self, record_id: str, kind: str | None = None) -> None:
        """Push the screen that shows ``record_id``: a run's tabs, a sweep's leaderboard, an A/B replay.

        ``kind`` as the sender's row says; unknown, the record is read first (never a scan of every summary
        on the UI thread: on a shared catalog of a million runs that is the whole list).
        """
        if kind == "run":
            self.push_screen(RecordScreen(record_id))
            return

        def load() -> None:
            try:
                record = self.catalog.get(record_id)
            except Exception as exc:  # gone since it was listed, or the catalog failed: a message, not a crash
                self.call_from_thread(show_trouble, self, exc, None)
                return
            message: Any = OpenSweep(record) if isinstance(record, Sweep) else OpenAB(record) if isinstance(record, ABTest) else None
            if message is not None:
                self.post_message(message)
            else:
                self.call_from_thread(self.push_screen, RecordScreen(record_id))

        self.run_worker(load, thread=True, exclusive=True, group="open")

    @on(OpenRecord)
    def _open_record(self, message: OpenRecord) -> None:
        self.open_record(message.record_id, message.kind)

    @on(OpenDiff)
    def _open_diff(self, message: OpenDiff) -> None:
        self.push_screen(DiffScreen(message.a, message.b))

    @on(OpenSweep)
    def _open_sweep(self, message: OpenSweep) -> None:
        self.push_screen(SweepScreen(message.sweep))

    @on(OpenAB)
    def _open_ab(self, message: OpenAB) -> None:
        self.push_screen(ABScreen(message.ab))

    @on(PickProject)
    def _pick_project(self, message: PickProject) -> None:
        self.push_screen(ProjectPicker(message.projects), message.chosen)

    @on(PickColumns)
    def _pick_columns(self, message: PickColumns) -> None:
        self.push_screen(ColumnPicker(message.offered, message.current, message.varying, automatic=message.automatic), message.chosen)

    # -- live: the watcher's news goes to every open screen -------------------------------
    def records_changed(self, ids: frozenset[str], added: bool) -> None:
        """Tell every screen on the stack (called on the UI thread by the watcher)."""
        for screen in self.screen_stack:
            screen.post_message(RecordsChanged(ids, added))

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.save_state()
        self.catalog.close()
