"""A remote root's listing, split by folder and run side by side, lists exactly what one recursive listing does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runsift.core import remotelist
from runsift.core.remotelist import list_tree, s3_timestamp

fsspec = pytest.importorskip("fsspec")

_NAME = st.sampled_from(["a", "b", "proj", "run-1", "run-2", "x.yaml", "metrics.json", "é", "sp ace"])
_PATHS = st.lists(st.lists(_NAME, min_size=1, max_size=5).map("/".join), min_size=0, max_size=40, unique=True)


def _prefix_free(paths: list[str]) -> list[str]:
    """Drop paths that are another's folder: a memory filesystem cannot hold a file and a folder of one name."""
    folders = {p.rsplit("/", i)[0] for p in paths for i in range(1, p.count("/") + 1)}
    return [p for p in paths if p not in folders]


def _tree(paths: list[str], top: str) -> Any:
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    for i, rel in enumerate(paths):
        fs.pipe(f"{top}/{rel}", b"x" * i)
    return fs


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=_PATHS, split_max=st.integers(1, 6), depth=st.integers(1, 4))
def test_the_split_listing_is_the_recursive_listing(paths: list[str], split_max: int, depth: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any tree, with the split's limits small enough that every branch (chains, too many folders) is taken."""
    monkeypatch.setattr(remotelist, "SPLIT_MAX", split_max)
    monkeypatch.setattr(remotelist, "SPLIT_DEPTH", depth)
    top = "/bucket/root"
    fs = _tree(_prefix_free(paths), top)
    if not paths:
        fs.mkdir(top)
    whole = fs.find(top, detail=True, withdirs=False)
    split = list_tree(fs, top)
    assert {k: v["size"] for k, v in split.items()} == {k: v["size"] for k, v in whole.items()}


def test_a_missing_root_lists_as_empty() -> None:
    fs = _tree(["p/q"], "/bucket/other")
    assert list_tree(fs, "/bucket/nothing-here") == {}


class _Denied:
    """A memory filesystem on which one folder cannot be listed: a permission refused, or the given error."""

    def __init__(self, fs: Any, denied: str, error: OSError | None = None) -> None:
        self.fs, self.denied, self.error = fs, denied, error

    def ls(self, path: str, detail: bool = True) -> Any:
        if path == self.denied:
            raise self.error or PermissionError(13, "Permission denied", path)
        return self.fs.ls(path, detail=detail)

    def find(self, path: str, **kwargs: Any) -> Any:
        return self.fs.find(path, **kwargs)


def test_a_folder_that_may_not_be_listed_is_left_out_but_a_denied_root_or_a_dropped_connection_is_an_error() -> None:
    fs = _tree(["README.md", "runs/proj/run-1/config.yaml"], "/bucket/team")
    assert sorted(list_tree(_Denied(fs, "/bucket/team/runs"), "/bucket/team")) == ["/bucket/team/README.md"]
    with pytest.raises(PermissionError):
        list_tree(_Denied(fs, "/bucket/team"), "/bucket/team")
    with pytest.raises(ConnectionResetError):  # an empty listing here would read as every file gone, and be deleted
        list_tree(_Denied(fs, "/bucket/team/runs", ConnectionResetError(104, "Connection reset by peer")), "/bucket/team")


class _Together:
    """A memory filesystem whose recursive listings wait for each other: only listings run at once get through."""

    def __init__(self, fs: Any, parties: int) -> None:
        self.fs = fs
        self.barrier = threading.Barrier(parties, timeout=10)
        self.found: list[str] = []

    def ls(self, path: str, detail: bool = True) -> Any:
        return self.fs.ls(path, detail=detail)

    def find(self, path: str, **kwargs: Any) -> Any:
        self.found.append(path)
        self.barrier.wait()  # BrokenBarrierError after 10 s if the folders were listed one after another
        return self.fs.find(path, **kwargs)


def test_the_folders_below_the_root_are_listed_at_once() -> None:
    top = "/bucket/team/runs"  # the root, then one folder of projects
    paths = [f"runs/{proj}/run-{i}/config.yaml" for proj in ("fraud", "churn", "ctr") for i in range(3)] + ["README.md"]
    fs = _Together(_tree(paths, "/bucket/team"), parties=3)
    listing = list_tree(fs, "/bucket/team")
    assert sorted(fs.found) == [f"{top}/{p}" for p in ("churn", "ctr", "fraud")], "the chain of one folder is passed through"
    assert len(listing) == len(paths)


def test_many_small_folders_are_listed_in_one_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs right below the root: a listing per run would be a round trip per run."""
    monkeypatch.setattr(remotelist, "SPLIT_MAX", 4)
    fs = _Together(_tree([f"run-{i}/config.yaml" for i in range(5)], "/bucket/sweep"), parties=1)
    assert len(list_tree(fs, "/bucket/sweep")) == 5
    assert fs.found == ["/bucket/sweep"]


@settings(max_examples=300)
@given(when=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_s3_times_read_as_botocore_reads_them(when: datetime) -> None:
    botocore_utils = pytest.importorskip("botocore.utils")
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    for text in (when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z", when.strftime("%Y-%m-%dT%H:%M:%SZ")):
        ours, theirs = s3_timestamp(text), botocore_utils.parse_timestamp(text)
        assert ours == theirs and ours.utcoffset() == timedelta(0), text


def test_other_time_forms_go_to_botocore() -> None:
    botocore_utils = pytest.importorskip("botocore.utils")
    for text in ("Mon, 07 Dec 2026 15:00:00 GMT", "2026-12-07T15:00:00", "1765119600"):
        assert s3_timestamp(text) == botocore_utils.parse_timestamp(text), text
