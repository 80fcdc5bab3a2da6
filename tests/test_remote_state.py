"""The mirror's state file is rewritten only when a sync changed something (a warm open of 10k runs lists ~90k objects)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runsift.core import remote

fsspec = pytest.importorskip("fsspec")


def _files(fs, top: str, n: int) -> None:
    for i in range(n):
        fs.pipe(f"{top}/proj/run-{i}/config.yaml", f"lr: 0.{i}\n".encode())


def test_a_sync_that_changes_nothing_leaves_the_state_file_alone_and_a_change_rewrites_it(tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    top = f"/bench-{tmp_path.name}/root"
    _files(fs, top, 5)
    url = f"memory:/{top}"
    first = remote.mirror(url, tmp_path, fs=fs)
    assert first.stats.fetched == 5
    state = remote.mirror_folder(url, tmp_path) / "state.json"
    before = state.stat()

    again = remote.mirror(url, tmp_path, fs=fs)
    assert (again.stats.fetched, again.stats.kept) == (0, 5)
    after = state.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "an unchanged sync rewrote the state file"

    fs.pipe(f"{top}/proj/run-2/config.yaml", b"lr: 0.25\n")  # another size: another key
    fs.rm(f"{top}/proj/run-4/config.yaml")
    changed = remote.mirror(url, tmp_path, fs=fs)
    assert (changed.stats.fetched, changed.stats.removed) == (1, 1)
    assert state.stat().st_ino != before.st_ino, "the change was not saved"
    last = remote.mirror(url, tmp_path, fs=fs)
    assert (last.stats.fetched, last.stats.kept, last.stats.removed) == (0, 4, 0), "the saved state is what the next sync sees"
    assert (first.path / "proj" / "run-2" / "config.yaml").read_bytes() == b"lr: 0.25\n"
    assert fs.cat(f"{top}/proj/run-2/config.yaml") == b"lr: 0.25\n", "the remote is never written"


def test_only_a_sync_that_ended_whole_is_opened_as_last_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app opens a bucket's mirror before syncing it only when the last sync ended: a mirror stopped part-way
    # (a dropped connection) has some records' new files beside others' old ones, and is synced first.
    fs = fsspec.filesystem("memory")
    top = f"/whole-{tmp_path.name}/root"
    _files(fs, top, 5)
    url = f"memory:/{top}"
    assert remote.last_synced(url, tmp_path) is None  # never synced
    synced = remote.mirror(url, tmp_path, fs=fs)
    assert remote.last_synced(url, tmp_path) == synced.path
    fs.pipe(f"{top}/proj/run-1/config.yaml", b"lr: 0.75\n")
    real_fetch = remote._fetch

    def dropped(*args, **kwargs):
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(remote, "_fetch", dropped)
    with pytest.raises(remote.RemoteError):
        remote.mirror(url, tmp_path, fs=fs)
    assert remote.last_synced(url, tmp_path) is None
    monkeypatch.setattr(remote, "_fetch", real_fetch)
    assert remote.mirror(url, tmp_path, fs=fs).stats.fetched == 1
    assert remote.last_synced(url, tmp_path) == synced.path
    assert (synced.path / "proj" / "run-1" / "config.yaml").read_bytes() == b"lr: 0.75\n"
