"""Reader for ``code_commit.txt``: which commit a run was trained from and what was changed locally.

People write this file in many ways: a bare hash, a hash with a ``dirty`` marker,
``key: value`` lines, a hash followed by ``git status --porcelain`` output, a
"local changes:" header followed by a list, ``git log -1`` or ``git describe``
output. :func:`parse_code` understands all of these leniently and reports what
it could not read; :func:`read_code` reads the file through a ReadContext.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..records import CodeState
from ..safeio import ReadContext
from ._text import Issue, as_path, clip, remembered, unquote

"""A problem found while parsing: message and 1-based line number (None when unknown)."""

CODE_FILE_NAMES: tuple[str, ...] = ("code_commit.txt", "commit.txt", "git_commit.txt", "code_state.txt")
"""File names holding a run's code state, in order of preference."""

_HASH = r"[0-9a-fA-F]{7,64}"
# A hash at the start of a line, followed by nothing or a separator (never by more letters).
_HASH_HEAD = re.compile(rf"(?P<hash>{_HASH})(?=$|[\s(\[:,;+-])(?P<rest>.*)")
_GIT_LOG_HEADER = re.compile(rf"commit\s+(?P<hash>{_HASH})\b(?P<rest>.*)", re.IGNORECASE)
_DESCRIBE = re.compile(rf"(?P<tag>\S+?)-(?P<n>\d+)-g(?P<hash>{_HASH})(?P<rest>(?:[-+.]dirty)?)", re.IGNORECASE)
_PORCELAIN = re.compile(r"(?P<xy>[ MADRCUT?!]{2}) (?P<path>\S.*)")
_BULLET = re.compile(r"(?:[-*+\u2022]|\d+[.)])\s+(?P<item>.+)")
_KEY_VALUE = re.compile(r"(?P<key>[A-Za-z][\w .\-/]{0,40}?)\s*(?::(?!//)|=)\s*(?P<value>.*)")
_TAG = re.compile(r"v\d+(?:\.\d+)*\S*")
_DIRTY_SUFFIX = re.compile(r"(?:^|[\s(\[+-])(?P<word>dirty|modified|clean)[)\]]?\s*$", re.IGNORECASE)

_COMMIT_KEYS = frozenset(
    ["commit", "commit hash", "commit id", "commit sha", "git commit", "git sha", "git hash", "git rev",
     "git revision", "sha", "sha1", "hash", "revision", "rev", "head", "code commit", "code version"]
)
_CHANGE_KEYS = frozenset(
    ["dirty", "is dirty", "tree dirty", "working tree dirty", "dirty tree", "dirty files",
     "local changes", "has local changes", "uncommitted changes", "uncommitted", "changes", "changed files",
     "files changed", "changed", "modified", "modified files", "files", "diff", "untracked", "untracked files",
     "staged", "staged changes", "unstaged", "unstaged changes", "changes not staged for commit",
     "changes to be committed", "new file", "deleted", "renamed", "copied", "typechange", "both modified"]
)
_CLEAN_KEYS = frozenset(["clean", "is clean", "tree clean", "working tree clean"])
_STATUS_KEYS = frozenset(["status", "git status", "state", "tree", "working tree", "worktree"])
_TRUE = frozenset(["true", "yes", "y", "1", "on", "dirty", "modified"])
_FALSE = frozenset(["false", "no", "n", "0", "off", "clean", "none", "nothing", "-"])
_DIRTY_LINES = frozenset(
    ["dirty", "(dirty)", "[dirty]", "modified", "uncommitted changes", "has local changes",
     "with local changes", "local changes present", "working tree dirty"]
)
_CLEAN_LINES = frozenset(
    ["clean", "(clean)", "[clean]", "working tree clean", "nothing to commit, working tree clean",
     "nothing to commit (working directory clean)", "no local changes", "no changes", "no uncommitted changes"]
)
_IGNORED_PREFIXES = ("(use ", "your branch ", "no changes added to commit", "nothing added to commit")
_FILLER_NOTES = frozenset(["commit", "commit hash", "hash", "sha", "head", "git commit", "commit id"])


def parse_code(text: str) -> tuple[CodeState, list[Issue]]:
    """Parse the text of a ``code_commit.txt`` leniently into a CodeState plus the problems found."""
    return _CodeParser().parse(text)


def read_code(path: Path, ctx: ReadContext) -> CodeState:
    """Read a code-state file through ``ctx``; never raises, reports problems on ``ctx``."""
    path = as_path(path)
    text = ctx.read_text(path)
    if text is None:
        return CodeState()
    state, issues = _parse_code_shared(text, path.name)
    for message, line in issues:
        ctx.problem(path, message, line)
    return state


_parse_code_shared = remembered(lambda text, _name: parse_code(text), entries=256, longest=16384)
"""Runs of one commit (and one dirty state) share their code file."""


class _CodeParser:
    """Line-by-line state machine behind :func:`parse_code`."""

    def __init__(self) -> None:
        """Start with nothing known."""
        self.issues: list[Issue] = []
        self.commit: str | None = None
        self.said: bool | None = None
        self.said_line: int | None = None
        self.files: list[str] = []
        self.renames: list[str] = []
        self.extra: dict[str, str] = {}
        self.in_list = False
        self.list_items = 0
        self.log_mode = False
        self.message_lines: list[str] = []
        self.unknown: list[tuple[int, str]] = []

    def parse(self, text: str) -> tuple[CodeState, list[Issue]]:
        """Run over every line and build the record."""
        if not text.strip():
            return CodeState(), [("empty file", None)]
        first: tuple[int, str] | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.rstrip()
            stripped = line.strip()
            if not stripped:
                if self.in_list and self.list_items:
                    self.in_list = False
                continue
            if stripped.startswith("#"):
                continue
            if first is None:
                first = (number, stripped)
            self._line(number, line, stripped)
        return self._finish(first)

    # -- one line ---------------------------------------------------------------
    def _line(self, number: int, line: str, s: str) -> None:
        """Classify one non-blank, non-comment line and update the state."""
        if self.log_mode and line.startswith(("    ", "\t")) and not self.in_list:
            self.message_lines.append(s)
            return
        porcelain = _PORCELAIN.fullmatch(line)
        if porcelain and _porcelain_code(porcelain["xy"]):
            if porcelain["xy"] != "!!":  # ignored files are not changes
                self._add_path(porcelain["path"])
            return
        log = _GIT_LOG_HEADER.fullmatch(s)
        if log:
            self._set_commit(log["hash"], number)
            self._apply_suffix(log["rest"], number, as_message=False)
            self.log_mode, self.in_list = True, False
            return
        bullet = _BULLET.fullmatch(s)
        if bullet and self.in_list:
            self._add_path(bullet["item"])
            return
        head = _HASH_HEAD.fullmatch(s)
        if head and (self.commit is None or not self.in_list):
            self._set_commit(head["hash"], number)
            self._apply_suffix(head["rest"], number, as_message=True)
            self.in_list = False
            return
        describe = _DESCRIBE.fullmatch(s)
        if describe:
            self._set_commit(describe["hash"], number)
            self.extra.setdefault("tag", describe["tag"])
            self.extra.setdefault("describe", s)
            if describe["rest"]:
                self._say(True, number)
            return
        low = " ".join(s.lower().split())
        if low in _DIRTY_LINES:
            self._say(True, number)
            return
        if low in _CLEAN_LINES:
            self._say(False, number)
            return
        if low.startswith("on branch "):
            self.extra.setdefault("branch", s[len("on branch "):].strip())
            return
        if low.startswith(_IGNORED_PREFIXES):
            return
        kv = _KEY_VALUE.fullmatch(s)
        if kv and self._key_value(kv["key"], kv["value"].strip(), number):
            return
        if self.in_list:
            self._add_path(s)
            return
        if _TAG.fullmatch(s):
            self.extra.setdefault("tag", s)
            return
        self.unknown.append((number, s))

    def _key_value(self, key: str, value: str, number: int) -> bool:
        """Handle a ``key: value`` line; return False when it is not really one."""
        norm = " ".join(key.lower().replace("_", " ").replace("-", " ").split())
        value = unquote(value)
        if norm in _COMMIT_KEYS:
            self.in_list = False
            head = _HASH_HEAD.fullmatch(value)
            if head:
                self._set_commit(head["hash"], number)
                self._apply_suffix(head["rest"], number, as_message=False)
            elif value:
                self.issues.append((f"{key.strip()} {value!r} is not a commit hash", number))
                self.extra.setdefault(norm.replace(" ", "_"), value)
            return True
        if norm in _CHANGE_KEYS:
            self._change_value(value, number)
            return True
        if norm in _CLEAN_KEYS:
            flag = _flag(value)
            if flag is not None:
                self._say(not flag, number)
            self.in_list = False
            return True
        if norm in _STATUS_KEYS:
            flag = _flag(value)
            if value.lower() in ("clean", "dirty", "modified") and flag is not None:
                self._say(flag, number)
            else:
                self.extra.setdefault(norm.replace(" ", "_"), value)
            self.in_list = False
            return True
        if self.in_list and not value:
            return False  # "path:" inside a list is more likely a path than a header
        self.in_list = False
        if value:
            self.extra.setdefault(norm.replace(" ", "_"), value)
        return True

    def _change_value(self, value: str, number: int) -> None:
        """Value of a dirty/changed-files key: a flag, a count, a list header or paths."""
        if not value:
            self.in_list, self.list_items = True, 0
            return
        flag = _flag(value)
        if flag is not None:
            self._say(flag, number)
            self.in_list = False
        elif value.isdigit():
            self._say(int(value) > 0, number)
            self.in_list = False
        else:
            for item in value.split(","):
                if item.strip():
                    self._add_path(item.strip())

    # -- state updates ------------------------------------------------------------
    def _set_commit(self, value: str, number: int) -> None:
        """Record the commit (lower-cased); a different second hash is reported, not used."""
        value = value.lower()
        if self.commit is None:
            self.commit = value
        elif not (self.commit.startswith(value) or value.startswith(self.commit)):
            self.issues.append((f"another commit hash {value}; keeping {self.commit}", number))

    def _apply_suffix(self, rest: str, number: int, *, as_message: bool) -> None:
        """Interpret what follows a hash: a dirty/clean marker and/or a commit message."""
        rest = rest.strip()
        if not rest:
            return
        marker = _DIRTY_SUFFIX.search(rest)
        if marker:
            self._say(marker["word"].lower() != "clean", number)
            rest = rest[: marker.start()]
        note = rest.strip(" \t-+:()[]")
        if not note or note.lower() in _FILLER_NOTES:
            return
        if as_message:
            self.extra.setdefault("message", note)
        else:
            self.extra.setdefault("note", note)

    def _say(self, dirty: bool, number: int) -> None:
        """Record an explicit dirty/clean statement; a contradicting later one is reported."""
        if self.said is None:
            self.said, self.said_line = dirty, number
        elif self.said != dirty:
            word = "dirty" if self.said else "clean"
            self.issues.append((f"contradicts line {self.said_line}, which says {word}; keeping {word}", number))

    def _add_path(self, path: str) -> None:
        """Record a changed file (for a rename, the new path) once."""
        path = unquote(path.strip())
        if " -> " in path:  # a rename: keep the new name, remember the pair
            self.renames.append(path)
            path = unquote(path.split(" -> ", 1)[1].strip())
        if path and path not in self.files:
            self.files.append(path)
        self.list_items += 1

    # -- result -------------------------------------------------------------------
    def _finish(self, first: tuple[int, str] | None) -> tuple[CodeState, list[Issue]]:
        """Decide dirtiness, add summary problems and freeze the CodeState."""
        if self.message_lines:
            self.extra.setdefault("message", "\n".join(self.message_lines))
        if self.renames:
            self.extra.setdefault("renames", "; ".join(self.renames))
        dirty = self.said
        if self.files:
            if self.said is False:
                self.issues.append(
                    (f"says clean but lists {len(self.files)} changed file(s); treating as dirty", self.said_line)
                )
            dirty = True
        if self.commit is None:
            where = f"first line: {clip(first[1])!r}" if first else "only comments"
            self.issues.append((f"no commit hash found ({where})", first[0] if first else None))
        if self.unknown and not (self.commit is None and len(self.unknown) == 1 and first == self.unknown[0]):
            number, s = self.unknown[0]
            count = len(self.unknown)
            self.issues.append((f"{count} line(s) not understood (first: {clip(s)!r})", number))
        state = CodeState(commit=self.commit, dirty=dirty, changed_files=tuple(self.files), extra=self.extra)
        return state, self.issues


def _porcelain_code(xy: str) -> bool:
    """True for a valid two-letter ``git status --porcelain`` code."""
    if xy in ("??", "!!"):
        return True
    return "?" not in xy and "!" not in xy and xy != "  "


def _flag(value: str) -> bool | None:
    """Interpret a yes/no-ish word; None when it is not one."""
    low = value.strip().strip("()[]").lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None
