"""What the app remembers between sessions (marks, last filter, sort), kept outside the runs folder.

Stored as JSON under ``$XDG_STATE_HOME/runsift/`` (default ``~/.local/state/runsift/``),
one file per root. A missing or unreadable file just means a fresh start. When that folder
lies inside the root being browsed (``XDG_STATE_HOME`` or the home folder under the runs
folder, or a root of ``/``), nothing is read or written there and the app says so once:
the same rule, :func:`runsift.core.places.is_inside`, keeps the cache out of the root.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runsift.core.catalog import root_key
from runsift.core.places import is_inside


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/runsift`` (``~/.local/state/runsift`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "runsift"


@dataclass
class AppState:
    """Marks, filter text, sort, cursor and chosen columns of the runs screen."""

    marks: list[str] = field(default_factory=list)
    filter: str = ""
    sort: str | None = None
    cursor: str | None = None
    columns: list[str] | None = None
    """Columns chosen with the picker (keys as filters take them); None: each project's own, automatically."""

    @classmethod
    def load(cls, path: Path | None) -> AppState:
        """The saved state, or a fresh one when there is none, it is unreadable or there is no place for it."""
        if path is None:
            return cls()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(doc, dict):
            return cls()
        marks, text_filter = doc.get("marks"), doc.get("filter")
        return cls(
            marks=[m for m in marks if isinstance(m, str)][:2] if isinstance(marks, list) else [],
            filter=text_filter if isinstance(text_filter, str) else "",
            sort=doc.get("sort") if isinstance(doc.get("sort"), str) else None,
            cursor=doc.get("cursor") if isinstance(doc.get("cursor"), str) else None,
            columns=_columns(doc.get("columns")),
        )

    def save(self, path: Path | None) -> None:
        """Write atomically; failing to save state (or having no place for it) is never worth an error."""
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as fh:
                json.dump(asdict(self), fh)
            os.replace(fh.name, path)
        except (OSError, ValueError):  # ValueError: a NUL in $XDG_STATE_HOME
            pass


def _columns(value: object) -> list[str] | None:
    """Saved column keys, or None when there are none or they are not a list of text."""
    if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
        return None
    return value[:64]


def state_path_for(root: Path, state_dir: Path | None = None) -> Path:
    """State file of a root (wherever it is: :func:`state_location` checks that it is outside the root)."""
    return Path(state_dir or default_state_dir()) / f"{root_key(root)}.json"


@dataclass(frozen=True)
class StateLocation:
    """Where a root's state is kept, or why it is not kept at all."""

    path: Path | None
    """The state file; None when its folder lies inside the root (runsift never writes there)."""
    warning: str | None = None
    """What to tell the user once when ``path`` is None."""


def state_location(root: Path, state_dir: Path | None = None) -> StateLocation:
    """The state file of ``root``, unless its folder is inside ``root``: then none, and a warning saying why."""
    path = state_path_for(root, state_dir)
    try:
        inside = is_inside(path.parent, root)
    except (OSError, ValueError):  # an unresolvable state folder: keep nothing rather than fail
        return StateLocation(None, f"marks, filter and sort are not saved: the state folder {path.parent} cannot be used")
    if inside:
        return StateLocation(
            None,
            f"marks, filter and sort are not saved: the state folder {path.parent} is inside the runs folder, "
            "where runsift never writes (set XDG_STATE_HOME to a folder outside it)",
        )
    return StateLocation(path)
