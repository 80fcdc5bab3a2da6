"""The runsift terminal app: browse runs, open one, diff two.

The app owns the catalog and the remembered state (marks, filter, sort); screens
ask it for data through workers so the UI thread never waits on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from runsift.core.catalog import Catalog
from textual.app import App
from textual.binding import Binding

from .commands import RunsProvider
from .safe import visible
from .screens.runs import RunsScreen
from .state import AppState, state_location


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
    ) -> None:
        super().__init__()
        self.root = Path(os.path.realpath(root))
        self.rescan_at_start = rescan
        """List every file on the first indexing instead of trusting folder times (``--rescan``)."""
        self.catalog = Catalog.open(self.root, cache_dir=cache_dir, use_cache=use_cache, refresh=False)
        where = state_location(self.root, state_dir)
        self.state_path, self.state_warning = where.path, where.warning
        self.state = AppState.load(self.state_path)
        self.sub_title = str(root)
        if os.environ.get("NO_COLOR"):
            self.theme = "textual-ansi" if "textual-ansi" in self.available_themes else self.theme

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())
        if self.state_warning:
            self.notify(visible(self.state_warning, one_line=True), severity="warning", timeout=10, markup=False)

    def save_state(self) -> None:
        """Persist marks, filter and sort (outside the runs folder)."""
        self.state.save(self.state_path)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        self.save_state()
        self.catalog.close()
