"""Find the runs, sweeps and A/B records below a root, without reading their contents.

The walk never follows links to folders (so link loops cannot trap it), lists each
record's files with size and mtime (the fingerprint the cache compares), and
reports what it could not enter as catalog-level problems.

Given a :class:`Memo` of the previous walk it is quick: a folder whose mtime did not
change has the same entries, so its listing is reused; a finished run is not listed
again when its folder and its live files (metrics, status, error log) are unchanged,
and one settled long ago when its folder is (see :func:`settled_key`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat as statmod
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import formats
from .readers.abtest import DEFINITION_NAMES, is_abtest_dir
from .readers.sweep import BASELINE_NAMES, SWEEP_NAMES, is_sweep_dir
from .records import Kind, Problem

SWEEP_RUNS_DIR = "runs"
ARTIFACTS_DIR = "artifacts"

_SPECIAL_NAMES = frozenset(n.lower() for n in (*SWEEP_NAMES, *BASELINE_NAMES, *DEFINITION_NAMES, *formats.SWEEP_NAMES))
"""Names (lower case) that can make a folder a sweep or an A/B record; other folders skip those checks."""

MAX_DEPTH = 24
"""Deepest folder level searched for records."""
MAX_LISTED = 5_000
"""Most files listed inside one record (artifacts folders can be huge)."""
RACY_NS = 2_000_000_000
"""A folder or file modified this close to the walk (ns) may change again within the same mtime tick:
its memo is not trusted next time (the "racily clean" problem git's index has)."""


class FileStat(NamedTuple):
    """One file of a record: path relative to the record folder, size, mtime, and mode and ctime.

    Mode and ctime change when a file is made readable again or renamed back, which size and
    mtime do not show (a read error would otherwise be kept for good).
    A NamedTuple rather than a frozen dataclass: a warm open builds one per file of every run.
    """

    rel: str
    size: int
    mtime_ns: int
    mode: int = 0
    ctime_ns: int = 0


@dataclass(slots=True)
class Found:
    """A record located on disk, not yet read."""

    kind: Kind
    dir: Path
    id: str
    project: str
    name: str
    sweep: str | None = None
    files: tuple[FileStat, ...] = ()
    members: list[str] = field(default_factory=list)
    extra_inputs: tuple[FileStat, ...] = ()
    """Files outside the folder that shape the record (a sweep's baseline config)."""
    format: str = "container"
    """The run's on-disk format (:mod:`runsift.core.formats`), which reads it."""
    trouble: tuple[tuple[str, str], ...] = ()
    """What went wrong listing the folder, as (file below the folder or "" for the folder, message): problems of the record."""

    @property
    def fingerprint(self) -> str:
        """Changes whenever a file of the record is added, removed, resized or touched."""
        h = hashlib.blake2b(digest_size=16)
        for f in (*self.files, *self.extra_inputs):
            h.update(f"{f.rel}\0{f.size}\0{f.mtime_ns}\0{f.mode}\0{f.ctime_ns}\n".encode("utf-8", "surrogateescape"))
        for member in self.members:  # a sweep changes when runs join or leave it
            h.update(f"member\0{member}\n".encode("utf-8", "surrogateescape"))
        for where, message in self.trouble:  # a listing that failed is not the listing that worked
            h.update(f"trouble\0{where}\0{message}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


class FolderMemo(NamedTuple):
    """A folder that holds records without being one: its mtime, the sub-folders walked, and the sweep
    it was inside (a folder in a sweep's runs/ is read by other rules, so the memo holds only there)."""

    mtime_ns: int
    subdirs: tuple[str, ...]
    sweep: str | None


RunMemo = tuple[str, tuple[str, ...]]
"""A finished run's quick key (folder mtime, live files' size and mtime) and its live file names.

A plain tuple: a warm open loads one per run, and at 100k runs a NamedTuple's constructor shows."""


@dataclass(slots=True)
class Memo:
    """What an earlier walk learnt, keyed by path relative to the root."""

    folders: dict[str, FolderMemo] = field(default_factory=dict)
    runs: dict[str, RunMemo] = field(default_factory=dict)
    settled: dict[str, str] = field(default_factory=dict)
    """Runs settled long ago: the quick key of their folder alone (:func:`settled_key` with no live
    file left), kept apart as plain text, as a warm open of a big root loads one for most of its runs."""


@dataclass(frozen=True, slots=True)
class Held:
    """A store file that could not be listed just now (a writer holds its lock): the runs listed
    from it last time stay as they were, each marked with ``note``, rather than dropping out."""

    folder: str
    """The store's folder: the ``path`` of every run listed from it."""
    rel: str
    """That folder below the root: the start of every such run's id."""
    note: Problem
    """Put on each run kept: why the store was not read, and that the run is as last read."""


@dataclass(slots=True)
class Walk:
    """The result of a walk: records listed file by file, records found unchanged, and the new memo."""

    found: list[Found] = field(default_factory=list)
    """Records listed in full (new, or possibly changed); compare their fingerprints with the cache."""
    kept: list[str] = field(default_factory=list)
    """Ids of runs whose quick key matched the memo: not listed, unchanged since the last walk."""
    problems: list[Problem] = field(default_factory=list)
    folders: dict[str, FolderMemo] = field(default_factory=dict)
    """Every non-record folder walked (reused or re-listed), for the next memo."""
    run_keys: dict[str, RunMemo] = field(default_factory=dict)
    """Quick keys of the runs listed in this walk (only those whose times are safely in the past)."""
    held: list[Held] = field(default_factory=list)
    """Stores that could not be listed now: keep the runs cached from them (see :class:`Held`)."""


def discover(root: Path, memo: Memo | None = None, on_found: Callable[[Found], None] | None = None) -> Walk:
    """All records below ``root`` and the problems met while walking; ``memo`` skips what did not change.

    Without a memo every file of every record is listed (a full rescan). ``on_found`` is called with
    each listed record as soon as it is found (a sweep's ``members`` are complete only at the end).
    """
    root = Path(os.path.realpath(root))
    top = str(root)
    trusted_before = time.time_ns() - RACY_NS
    walk = Walk()
    found, problems = walk.found, walk.problems
    # (folder, depth, project, sweep id when inside a sweep's runs/ folder); folders as strings: a
    # warm open walks every run folder, and pathlib costs more than the system calls here.
    stack: list[tuple[str, int, str, str | None]] = [(top, 0, root.name, None)]
    sweeps: dict[str, Found] = {}
    cut = len(top) + 1
    sep = os.sep
    kept = walk.kept
    stat = os.stat
    while stack:  # the loop runs once per folder; at 100k runs a warm open is mostly this loop
        folder, depth, project, sweep_id = stack.pop()
        rel = folder[cut:]
        try:
            mtime: int | None = os.stat(folder).st_mtime_ns
        except OSError:
            mtime = None  # listing it below reports why
        extras = _baseline_stats(sweeps[sweep_id]) if sweep_id is not None else ()
        if memo is not None and mtime is not None:
            folder_memo = memo.folders.get(rel)
            if (
                folder_memo is not None
                and folder_memo.mtime_ns == mtime
                and folder_memo.sweep == sweep_id
                and depth < MAX_DEPTH
            ):
                # Same entries as last time. Check its settled runs right here (the common case, so
                # no stack round trip); anything else is walked as usual.
                walk.folders[rel] = folder_memo
                child_project = project if (not rel or sweep_id is not None) else os.path.basename(folder)
                context = _context(child_project, sweep_id, extras)
                prefix = rel + sep if rel else ""
                runs, settled = memo.runs, memo.settled
                members = sweeps[sweep_id].members if sweep_id is not None else None
                folder_sep = folder + sep
                for name in folder_memo.subdirs:
                    child_rel = prefix + name
                    key = settled.get(child_rel)
                    if key is not None:  # a run settled long ago, keyed by its folder's time alone: inlined, 100k times
                        try:
                            same = str(stat(folder_sep + name).st_mtime_ns) + context == key
                        except OSError:
                            same = False  # gone: walk it as usual, which says what happened
                    else:
                        run_memo = runs.get(child_rel)
                        same = run_memo is not None and _unchanged(folder_sep + name, run_memo, context)
                    if same:
                        kept.append(child_rel)
                        if members is not None:
                            members.append(child_rel)
                    else:
                        stack.append((folder_sep + name, depth + 1, child_project, sweep_id))
                continue
            key = memo.settled.get(rel)
            run_memo = memo.runs.get(rel) if key is None else (key, ())
            if run_memo is not None and _unchanged(folder, run_memo, _context(project, sweep_id, extras)):
                kept.append(rel)  # a run whose parent folder changed (a sibling came or went)
                if sweep_id is not None:
                    sweeps[sweep_id].members.append(rel)
                continue
        base = os.path.basename(folder)
        is_top = folder == top
        entries = _scan(folder, root, problems)
        if entries is None:
            continue
        names = {e.name for e in entries}
        special = not is_top and any(n.lower() in _SPECIAL_NAMES for n in names)
        sweep_fmt = formats.sweep_format(names) if special and sweep_id is None else None
        if sweep_fmt is not None or (special and sweep_id is None and is_sweep_dir(names)):
            if not _utf8_id(rel, problems):
                continue
            fmt_name = sweep_fmt.name if sweep_fmt is not None else "container"
            files, trouble = _listing(folder, entries, depth=1)
            rec = Found("sweep", Path(folder), rel, project, base, files=files, trouble=trouble, format=fmt_name)
            found.append(rec)
            sweeps[rel] = rec
            if on_found is not None:
                on_found(rec)
            for entry in entries:  # a format's sweep (a Hydra multirun) holds its runs in any sub-folder
                wanted = entry.name == SWEEP_RUNS_DIR if sweep_fmt is None else not entry.name.startswith(".")
                if wanted and _is_real_dir(entry):
                    stack.append((entry.path, depth + 1, project, rel))
            continue
        if special and is_abtest_dir(names):
            if not _utf8_id(rel, problems):
                continue
            files, trouble = _listing(folder, entries, depth=1)
            rec = Found("abtest", Path(folder), rel, project, base, files=files, trouble=trouble)
            found.append(rec)
            if on_found is not None:
                on_found(rec)
            continue
        fmt = None if is_top else formats.detect(names, in_sweep=sweep_id is not None)
        if fmt is not None:
            if not _utf8_id(rel, problems):
                continue
            files, trouble = _listing(folder, entries, root=top)
            rec = Found("run", Path(folder), rel, project, base, sweep=sweep_id, files=files, format=fmt.name, trouble=trouble)
            if sweep_id is not None:
                sweeps[sweep_id].members.append(rel)
                rec.extra_inputs = extras
            found.append(rec)
            if on_found is not None:
                on_found(rec)
            live = tuple(f for f in rec.files if "/" not in f.rel and fmt.is_live(f.rel))
            if mtime is not None and all(t < trusted_before for t in (mtime, *(f.mtime_ns for f in (*live, *extras)))):
                walk.run_keys[rel] = (_quick_key(mtime, live, _context(project, sweep_id, extras)), tuple(f.rel for f in live))
            continue
        if depth >= MAX_DEPTH:
            problems.append(Problem(rel, f"folder nesting deeper than {MAX_DEPTH} levels; not searched"))
            continue
        child_project = project if (is_top or sweep_id is not None) else base
        here: list[Problem] = []
        subdirs: list[str] = []
        untrusted = _expand_stores(folder, rel, project, names, walk, on_found)
        skipped = formats.bookkeeping(names)
        for entry in entries:
            untrusted = untrusted or entry.is_symlink()
            if entry.name.startswith(".") or entry.name in skipped or not _is_dir_entry(entry, root, here):
                continue
            subdirs.append(entry.name)
            stack.append((entry.path, depth + 1, child_project, sweep_id))
        problems.extend(here)
        if mtime is not None:
            # -1 never matches, so the folder is listed again next time: when it changed moments ago,
            # or holds links, whose targets can change (or break) without the folder changing, or a
            # store whose runs must be listed on every walk (they have no folders a memo could keep).
            trusted = mtime if mtime < trusted_before and not untrusted else -1
            walk.folders[rel] = FolderMemo(trusted, tuple(subdirs), sweep_id)
    found.sort(key=lambda f: f.id)
    for rec in sweeps.values():
        rec.members.sort()
    return walk


def _expand_stores(folder: str, rel: str, project: str, names: set[str], walk: Walk, on_found: Callable[[Found], None] | None) -> bool:
    """List the runs of the store files (``mlflow.db``) in a folder that is no record; True when it holds any."""
    any_store = False
    for fmt in formats.store_formats():
        for name in fmt.stores(names):
            if fmt.expand is None or not is_utf8(rel, name):
                continue
            any_store = True
            runs, trouble = fmt.expand(Path(folder, name), rel, project)
            walk.problems.extend(trouble)
            if isinstance(runs, Held):
                walk.held.append(runs)
                continue
            for rec in runs:
                walk.found.append(rec)
                if on_found is not None:
                    on_found(rec)
    return any_store


def relist(root: Path, run_id: str, project: str, sweep: str | None) -> Found | None:
    """List one run folder again, as a full walk would (None when it is gone).

    Lets the catalog check a run that is about to be shown for edits a quick walk does not see.
    """
    top = str(root)
    folder = os.path.join(top, run_id)
    try:
        if not statmod.S_ISDIR(os.lstat(folder).st_mode) or os.path.realpath(folder) != folder:
            return None  # replaced by a link (or a file): the walk will not follow it, nor will we
        with os.scandir(folder) as it:
            entries = sorted(it, key=_entry_name)
    except OSError:
        return None
    fmt = formats.detect({e.name for e in entries}, in_sweep=sweep is not None) or formats.get("container")
    files, trouble = _listing(folder, entries, root=top)
    rec = Found("run", Path(folder), run_id, project, os.path.basename(folder), sweep=sweep, files=files, format=fmt.name, trouble=trouble)
    if sweep is not None:
        sweep_dir = os.path.join(top, sweep)
        try:
            with os.scandir(sweep_dir) as it:
                sweep_entries = sorted(it, key=_entry_name)
        except OSError:
            sweep_entries = []
        sweep_files, _ = _listing(sweep_dir, sweep_entries, depth=1)
        sweep_rec = Found("sweep", Path(sweep_dir), sweep, project, os.path.basename(sweep_dir), files=sweep_files)
        rec.extra_inputs = _baseline_stats(sweep_rec)
    return rec


def shown(name: str) -> str:
    """A path with undecodable bytes (kept by Python as surrogate escapes) shown as ``\\xff``: safe to print and store."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def is_utf8(*names: str) -> bool:
    """True when these names are valid UTF-8, so the cache (SQLite text) can hold them.

    A name in other bytes is kept by Python as surrogate escapes, which do not encode.
    """
    try:
        for name in names:
            name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _utf8_id(rel: str, problems: list[Problem]) -> bool:
    """True when a record's id is valid UTF-8; else a problem says it is not indexed.

    The catalog keys records by id in SQLite, whose text is UTF-8: a folder named in other bytes
    cannot be one of its records (a sweep named so is skipped with its runs).
    """
    if is_utf8(rel):
        return True
    problems.append(Problem(shown(rel), "folder name is not valid UTF-8; this record is not indexed (rename it)"))
    return False


def _quick_key(mtime: int, files: Iterable[FileStat], context: str) -> str:
    """Changes when the folder's entries change, a live file is rewritten, or the run's context does.

    ``files`` are the run's live files (name, size, mtime); ``context`` is :func:`_context` of the
    folder the run is in, the same for all its runs.
    """
    return f"{mtime}{_files_key(files)}{context}"


def _context(project: str, sweep: str | None, extras: tuple[FileStat, ...]) -> str:
    """What a run's quick key depends on besides its own folder: project, sweep, the sweep's baseline files."""
    return f"\0{project}\0{sweep or ''}{_files_key(extras)}"


def settled_key(memo: RunMemo, before_ns: int) -> RunMemo | None:
    """A settled run's quick key without the live files it no longer rewrites, when the folder and live
    file times the key holds are all before ``before_ns`` (else None).

    What the catalog keeps for a run settled long ago: its folder's time, and only the live files a
    format watches however old the run is (:func:`formats.live_when_settled`, MLflow's ``meta.yaml``).
    For a run container that is one ``stat`` a run on a warm open instead of two or three. The key is
    :func:`_quick_key` of those files; the names are known, and sizes and times are integers, so it
    parses one way.
    """
    key, live = memo
    end = key.find("\0")
    if end < 0:
        return None
    parts, kept = [key[:end]], []
    try:
        newest = int(key[:end])
        pos = end
        for name in live:
            head = f"\0{name}:"
            if not key.startswith(head, pos):
                return None
            size_end = key.index(":", pos + len(head))
            time_end = key.index("\0", size_end + 1)
            newest = max(newest, int(key[size_end + 1 : time_end]))
            if formats.live_when_settled(name):
                parts.append(key[pos:time_end])
                kept.append(name)
            pos = time_end
    except ValueError:
        return None
    if newest >= before_ns or len(kept) == len(live):
        return None
    parts.append(key[pos:])
    return "".join(parts), tuple(kept)


_FILE_KEY = "\0{}:{}:{}"
"""A file's part of a quick key: name, size, mtime."""


def _files_key(files: Iterable[FileStat]) -> str:
    return "".join([_FILE_KEY.format(*f) for f in files])


def _unchanged(folder: str, memo: RunMemo, context: str) -> bool:
    """True when a run folder's quick key, taken from the disk now (its folder and live files), is the memo's.

    Once per run whose live files are still watched (finished within the last day, or not finished):
    it builds :func:`_quick_key`'s text straight from the stats. A run settled long ago is checked
    inline by :func:`discover` from :attr:`Memo.settled`, as a function call per run costs about as
    much as its one ``stat``.
    """
    key, live = memo
    stat, sep = os.stat, os.sep
    try:
        parts = [str(stat(folder).st_mtime_ns)]
        for name in live:
            st = stat(folder + sep + name)
            parts.append(_FILE_KEY.format(name, st.st_size, st.st_mtime_ns))
    except OSError:  # gone: walk it as usual, which says what happened
        return False
    parts.append(context)
    return "".join(parts) == key


def _baseline_stats(sweep: Found) -> tuple[FileStat, ...]:
    return tuple(
        FileStat(f"../../{f.rel}", f.size, f.mtime_ns) for f in sweep.files if f.rel in BASELINE_NAMES
    )


def _scan(folder: str, root: Path, problems: list[Problem]) -> list[os.DirEntry[str]] | None:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=_entry_name)
    except OSError as exc:
        problems.append(Problem(_rel(Path(folder), root), f"cannot list folder: {exc.strerror or exc}"))
        return None


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_dir_entry(entry: os.DirEntry[str], root: Path, problems: list[Problem]) -> bool:
    """True for a real sub-folder; a link to a folder is reported and skipped."""
    if _is_real_dir(entry):
        return True
    if entry.is_symlink():
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        target = os.path.realpath(entry.path)
        if is_dir or not os.path.exists(target):
            inside = target == str(root) or target.startswith(str(root) + os.sep)
            why = "points inside the root" if inside else "points outside the root"
            if not os.path.exists(target):
                why = "is broken or loops"
            problems.append(Problem(_rel(Path(entry.path), root), f"link to a folder {why}; not followed"))
    return False


def _listing(
    folder: str, entries: list[os.DirEntry[str]], depth: int = 3, root: str | None = None
) -> tuple[tuple[FileStat, ...], tuple[tuple[str, str], ...]]:
    """Files of a record folder (and of its sub-folders down to ``depth``) with size and mtime, and what went wrong.

    A folder's own files come before its sub-folders, and ``artifacts/`` comes last, so when
    the MAX_LISTED cap is reached it is thousands of artifacts that go unlisted, not the
    config or the metrics. The cap, files that cannot be looked at (a folder readable but
    not searchable, mode 444) and, given the ``root``, links that lead out of it or nowhere
    (not listed) are said in the second part: they become problems of the record.
    """
    out: list[FileStat] = []
    unreadable: list[tuple[str, str]] = []
    links: list[tuple[str, str]] = []
    capped = False

    def visit(entries: list[os.DirEntry[str]], prefix: str, level: int) -> None:
        nonlocal capped
        folders: list[tuple[os.DirEntry[str], str]] = []
        for entry in entries:
            rel = prefix + entry.name
            try:
                st = _stat_entry(entry)
            except OSError as exc:
                unreadable.append((rel, exc.strerror or str(exc)))
                continue
            if statmod.S_ISDIR(st.st_mode):
                if level < depth:
                    folders.append((entry, rel))
                continue
            if len(out) >= MAX_LISTED:
                capped = True
                return
            if statmod.S_ISLNK(st.st_mode) and not _link_trouble(entry.path, root, rel, links):
                with contextlib.suppress(OSError):  # the target's size and mtime, so edits behind a link are noticed
                    st = os.stat(entry.path)
            out.append(FileStat(rel, st.st_size, st.st_mtime_ns, st.st_mode, st.st_ctime_ns))  # a bad link stays listed (readers refuse it by name)
        folders.sort(key=lambda item: (item[0].name == ARTIFACTS_DIR, item[0].name))
        for entry, rel in folders:
            if capped:
                return
            try:
                with os.scandir(entry.path) as it:
                    children = sorted(it, key=_entry_name)
            except OSError as exc:
                unreadable.append((rel + "/", exc.strerror or str(exc)))
                continue
            visit(children, rel + "/", level + 1)

    visit(entries, "", 1)
    trouble: list[tuple[str, str]] = []
    if unreadable:
        first, why = unreadable[0]
        more = f" and {len(unreadable) - 1:,} more" if len(unreadable) > 1 else ""
        trouble.append(("", f"cannot look at {first!r}{more} in this folder ({why}); not read"))
    trouble += links[:5]
    if len(links) > 5:
        trouble.append(("", f"{len(links) - 5:,} more links lead outside the root or nowhere; not read"))
    if capped:
        trouble.append(("", f"more than {MAX_LISTED:,} files; only the first {MAX_LISTED:,} listed (the run's own files first, artifacts last)"))
    return tuple(out), tuple(trouble)


def _link_trouble(path: str, root: str | None, rel: str, links: list[tuple[str, str]]) -> bool:
    """True (and said in ``links``, worded as the readers word it) when a link leaves ``root`` or leads nowhere."""
    if root is None:
        return False
    target = os.path.realpath(path)
    if not os.path.exists(target):
        links.append((rel, "broken or looping symbolic link; not read"))
        return True
    if target != root and not target.startswith(os.path.join(root, "")):  # join: a root of / stays /
        links.append((rel, "symbolic link points outside the root; not read"))
        return True
    return False


def _stat_entry(entry: os.DirEntry[str]) -> os.stat_result:
    """The entry's own stat (links not followed); raises OSError (a folder without search permission)."""
    return entry.stat(follow_symlinks=False)


def _rel(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
    return rel if rel != "." else ""
