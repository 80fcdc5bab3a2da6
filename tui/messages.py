"""Requests screens send to the app: open a record, a diff, a picker; and news the app sends to screens.

Navigation belongs to the app (:class:`runsift.tui.app.RunsiftApp` handles each request and
pushes the screen), so screens never import one another and a new screen is one file plus one
handler. Messages bubble from a screen to the app, as in posting or harlequin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from runsift.core.records import ABTest, Sweep


class OpenRecord(Message):
    """Show one record: a run's tabs, a sweep's leaderboard or an A/B replay, by id (and kind, when the sender knows it)."""

    def __init__(self, record_id: str, kind: str | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.kind = kind


class OpenDiff(Message):
    """Compare run ``a`` with run ``b`` (ids), with the explanation of the change."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__()
        self.a, self.b = a, b


class OpenSweep(Message):
    """Show a loaded sweep's recomputed leaderboard."""

    def __init__(self, sweep: Sweep) -> None:
        super().__init__()
        self.sweep = sweep


class OpenAB(Message):
    """Replay a loaded A/B record's analysis."""

    def __init__(self, ab: ABTest) -> None:
        super().__init__()
        self.ab = ab


class PickProject(Message):
    """Ask which project to narrow to; ``chosen`` gets the name, ``""`` for all, None when cancelled."""

    def __init__(self, projects: list[str], chosen: Callable[[str | None], None]) -> None:
        super().__init__()
        self.projects = projects
        self.chosen = chosen


class PickColumns(Message):
    """Ask which columns the runs table shows; ``chosen`` gets the keys, ``[]`` for automatic, None when cancelled."""

    def __init__(self, offered: list[str], current: list[str], varying: set[str], automatic: bool,
                 chosen: Callable[[list[str] | None], None]) -> None:
        super().__init__()
        self.offered, self.current, self.varying, self.automatic = offered, current, varying, automatic
        self.chosen = chosen


class RecordsChanged(Message, bubble=False):
    """The app to every open screen: these records changed on disk (``added``: new or removed ones too)."""

    def __init__(self, ids: frozenset[str], added: bool) -> None:
        super().__init__()
        self.ids = ids
        self.added = added
