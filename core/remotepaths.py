"""Paths inside a remote root's local mirror, shown as the remote URL they stand for.

A remote root (:mod:`runsift.core.remote`) is indexed through a mirror under the cache folder, so a
record's ``path`` is in the mirror (the readers need it there). Whatever shows a path to a person
passes it through :func:`shown_path`, which gives ``s3://bucket/prefix/run-1`` instead.
"""

from __future__ import annotations

_SHOWN: dict[str, str] = {}
"""Mirror folder → remote URL, for every remote root synced in this process."""


def register(mirror_root: str, url: str) -> None:
    """Show paths below ``mirror_root`` as below ``url`` from now on (called after a sync)."""
    _SHOWN[mirror_root.rstrip("/")] = url.rstrip("/")


def shown_path(path: str) -> str:
    """``path`` as a person should see it: the remote URL for a path inside a mirror, else unchanged."""
    for root, url in _SHOWN.items():
        if path == root or path.startswith(root + "/"):
            return url + path[len(root) :]
    return path
