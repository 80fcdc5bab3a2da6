"""The command line's hook for remote roots: a ROOT (or ``--root``, ``$RUNSIFT_ROOT``) that is a URL becomes its mirror."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runsift.core.fmt import format_size
from runsift.core.remote import is_remote, mirror

from .safe import visible

_ROOT_FIELDS = ("root", "root_opt")


def use_remote_roots(args: argparse.Namespace) -> argparse.Namespace:
    """Sync a remote root given to the command and put its mirror folder in its place (``args.remote_url`` keeps the URL).

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
    result = mirror(url, cache_dir)
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
