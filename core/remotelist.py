"""One listing of a remote root, split by folder so its requests run at once (a warm open is mostly this listing).

A plain recursive listing of a bucket is one chain of pages of 1,000 keys, each asked only when the
one before has come back: 91 round trips in a row for 10,000 runs. Runs sit in a few folders below
the root (projects, experiments), so the root is listed one level deep first and each of its folders
is listed whole, :data:`LIST_WORKERS` at a time. A root of many small folders (runs right below it) is
listed whole instead, after the one-level listing (a request per 1,000 folders more): a request per run
would cost more round trips than it saves. Over SFTP, where a recursive listing is a folder-by-folder
walk, the same split walks the folders side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

LIST_WORKERS = 16
"""Folders listed at once."""
SPLIT_MAX = 64
"""Above this many folders at the level looked into, the level is listed whole (each folder is likely small)."""
SPLIT_DEPTH = 4
"""Levels of a chain of single folders (``bucket/team/runs/``) passed through before the split."""

Listing = dict[str, Mapping[str, Any]]


def list_tree(fs: Any, path: str) -> Listing:
    """Every file below ``path`` by full name with its info: the files ``fs.find(path, detail=True, withdirs=False)``
    lists (a root that is itself a file aside).

    A root that does not exist lists as empty (the caller tells a missing root from an empty one); a folder
    below it that may not be listed (permission denied) is left out, as a recursive listing leaves it out.
    Any other error (a dropped connection, a timeout) propagates: an empty listing would read as every file gone.
    """
    listing: Listing = {}
    parent = path
    for depth in range(SPLIT_DEPTH):
        try:
            entries = fs.ls(parent, detail=True)
        except FileNotFoundError:
            return listing
        except PermissionError:
            if depth == 0:  # the root itself: denied access is the caller's to say
                raise
            return listing  # a dropped connection is not this: it propagates, and nothing is taken for removed
        folders = []
        for info in entries:
            name = info["name"].rstrip("/")
            if info.get("type") == "directory":
                if name != parent:  # some stores list the folder itself
                    folders.append(name)
            else:
                listing[info["name"]] = info
        if len(folders) != 1:
            break
        parent = folders[0]
    if len(folders) == 1 or len(folders) > SPLIT_MAX:  # a chain deeper than SPLIT_DEPTH, or many small folders
        listing.update(fs.find(parent, detail=True, withdirs=False))
        return listing
    with ThreadPoolExecutor(min(LIST_WORKERS, max(len(folders), 1))) as pool:
        for part in pool.map(lambda folder: fs.find(folder, detail=True, withdirs=False), folders):
            listing.update(part)
    return listing


def s3_timestamp(text: str) -> datetime:
    """An S3 time (``2026-12-07T15:00:00.000Z``) read by the standard library: botocore's general
    parser (dateutil) was half of a listing's client CPU, ~50 µs an object. Other forms go to it."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        from botocore.utils import parse_timestamp

        return parse_timestamp(text)  # type: ignore[no-any-return]
    return when


def s3_session() -> Any:
    """An aiobotocore session whose clients read timestamps with :func:`s3_timestamp`."""
    from aiobotocore.session import AioSession

    session = AioSession()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=s3_timestamp)
    return session
