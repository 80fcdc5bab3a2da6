"""What the app remembers between sessions (marks, last filter, sort), kept outside the runs folder.

Stored as JSON under ``$XDG_STATE_HOME/runsift/`` (default ``~/.local/state/runsift/``),
one file per root. A missing or unreadable file just means a fresh start.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runsift.core.catalog import root_key


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
    def load(cls, path: Path) -> AppState:
        """The saved state, or a fresh one when there is none or it is unreadable."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(doc, dict):
            return cls()
        marks = doc.get("marks")
        return cls(
            marks=[m for m in marks if isinstance(m, str)][:2] if isinstance(marks, list) else [],
            filter=doc.get("filter") if isinstance(doc.get("filter"), str) else "",
            sort=doc.get("sort") if isinstance(doc.get("sort"), str) else None,
            cursor=doc.get("cursor") if isinstance(doc.get("cursor"), str) else None,
            columns=_columns(doc.get("columns")),
        )

    def save(self, path: Path) -> None:
        """Write atomically; failing to save state is never worth an error."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as fh:
                json.dump(asdict(self), fh)
            os.replace(fh.name, path)
        except OSError:
            pass


def _columns(value: object) -> list[str] | None:
    """Saved column keys, or None when there are none or they are not a list of text."""
    if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
        return None
    return value[:64]


def state_path_for(root: Path, state_dir: Path | None = None) -> Path:
    """State file of a root."""
    return Path(state_dir or default_state_dir()) / f"{root_key(root)}.json"
