"""The command line's hook for remote roots: a ROOT (or ``--root``, ``$RUNSIFT_ROOT``) that is a URL becomes its mirror."""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from runsift.core.fmt import format_size
from runsift.core.remote import is_remote, last_synced, mirror, shown_url
from runsift.core.remotepaths import shown_path

from .safe import visible

_ROOT_FIELDS = ("root", "root_opt")


def use_remote_roots(args: argparse.Namespace) -> argparse.Namespace:
    """Sync a remote root given to the command and put its mirror folder in its place (``args.remote_url`` keeps the URL).

    The app, on a root synced whole before, gets the mirror as it is and ``args.remote_sync(on_batch)`` to sync with.

    Raises :class:`runsift.core.remote.RemoteError` (a CatalogError: one line, exit 2) when it cannot.
    """
    args.remote_url = None
    field = next((f for f in _ROOT_FIELDS if is_remote(getattr(args, f, None))), None)
    url = getattr(args, field) if field else None
    if url is None and is_remote(os.environ.get("RUNSIFT_ROOT")) and not any(getattr(args, f, None) for f in _ROOT_FIELDS):
        field, url = "root", os.environ["RUNSIFT_ROOT"]
    if url is None or field is None:
        return args
    cache_dir = Path(args.cache_dir) if getattr(args, "cache_dir", None) else None
    if getattr(args, "no_cache", False):  # the readers need the files somewhere: a private folder gone at exit
        cache_dir = Path(tempfile.mkdtemp(prefix="runsift-remote-"))
        atexit.register(shutil.rmtree, cache_dir, True)
    if getattr(args, "command", None) == "app" and not getattr(args, "catalog", None):
        tree = last_synced(url, cache_dir)
        if tree is not None:  # the app opens the mirror as last synced at once, and syncs in the background
            setattr(args, field, str(tree))
            args.remote_url = shown_url(url)
            args.remote_sync = RemoteSync(url, cache_dir)
            return args
    show = not getattr(args, "quiet", False) and sys.stderr.isatty()

    def progress(done: int, todo: int) -> None:
        print(f"\r{visible(url, one_line=True)}: fetched {done:,} of {todo:,} changed objects", end="", file=sys.stderr, flush=True)

    try:
        result = mirror(url, cache_dir, on_batch=progress if show else None)
    finally:
        if show:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)
    setattr(args, field, str(result.path))
    args.remote_url = result.url
    s = result.stats
    if not getattr(args, "quiet", False):
        print(
            f"{visible(result.url, one_line=True)}: {s.listed:,} objects listed, {s.fetched:,} fetched "
            f"({format_size(s.bytes_fetched)}), {s.kept:,} unchanged, {s.removed:,} removed in {s.seconds:.1f} s",
            file=sys.stderr,
        )
        if s.skipped:
            print(f"{len(s.skipped):,} object names cannot be local files and were left out, e.g. "
                  f"{visible(s.skipped[0], one_line=True)}", file=sys.stderr)
    return args


@dataclasses.dataclass(frozen=True)
class RemoteSync:
    """A remote root's sync as the app runs it, in the background, on a mirror it opened as last synced."""

    url: str
    cache_dir: Path | None

    def __call__(self, on_batch: Callable[[int, int], None]) -> None:
        """Bring the mirror up to date, told ``(done, to fetch)`` after each batch; raises RemoteError."""
        mirror(self.url, self.cache_dir, on_batch=on_batch)

    def whole(self) -> bool:
        """Whether the mirror is as a whole sync left it (False after a sync cut off once it changed the tree)."""
        return last_synced(self.url, self.cache_dir) is not None


class RemoteReport:
    """The report module, with paths inside a remote root's mirror shown as the remote URL (JSON and CSV)."""

    def __init__(self, report: Any) -> None:
        self._report = report

    def __getattr__(self, name: str) -> Any:
        return getattr(self._report, name)

    def print_json(self, doc: Any) -> None:
        self._report.print_json(_swap(doc))

    def print_json_stream(self, docs: Iterable[Any]) -> None:
        self._report.print_json_stream(_swap(doc) for doc in docs)

    def print_csv(self, pages: Iterable[tuple[Sequence[Any], Any]], metric_names: Sequence[str], *columns: Any) -> None:
        shown = (([dataclasses.replace(r, path=shown_path(r.path)) for r in rows], facets) for rows, facets in pages)
        self._report.print_csv(shown, metric_names, *columns)


def _swap(doc: Any) -> Any:
    if isinstance(doc, str):
        return shown_path(doc)
    if isinstance(doc, dict):
        return {k: _swap(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [_swap(v) for v in doc]
    return doc


def remote_report(report: Any, args: argparse.Namespace) -> Any:
    """``report`` as is for a local root; for a remote one, a :class:`RemoteReport` showing its URL."""
    return report if getattr(args, "remote_url", None) is None else RemoteReport(report)
