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


def test_two_syncs_of_one_mirror_take_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app syncs in the background while `runsift ls URL` may sync the same mirror: at once, one sync's end would
    # mark whole a tree the other had half changed, and remove the other's temporary files. The second waits.
    import threading

    fs = fsspec.filesystem("memory")
    top = f"/turns-{tmp_path.name}/root"
    _files(fs, top, 4)
    url = f"memory:/{top}"
    tree = remote.mirror(url, tmp_path, fs=fs).path
    for i in range(4):
        fs.pipe(f"{top}/proj/run-{i}/config.yaml", f"lr: 0.{i}5\n".encode())
    monkeypatch.setattr(remote, "BATCH_FILES", 1)
    real_fetch = remote._fetch
    inside, go_on = threading.Event(), threading.Event()

    def held(*args, **kwargs):
        if threading.current_thread().name == "first":
            inside.set()
            assert go_on.wait(10)
        return real_fetch(*args, **kwargs)

    monkeypatch.setattr(remote, "_fetch", held)
    done: dict[str, remote.Mirror] = {}
    first = threading.Thread(target=lambda: done.setdefault("first", remote.mirror(url, tmp_path, fs=fs)), name="first")
    second = threading.Thread(target=lambda: done.setdefault("second", remote.mirror(url, tmp_path, fs=fs)), name="second")
    first.start()
    assert inside.wait(10)
    second.start()
    second.join(0.5)
    assert second.is_alive() and "second" not in done, "the second sync did not wait for the first"
    go_on.set()
    first.join(10)
    second.join(10)
    assert done["first"].stats.fetched == 4 and done["second"].stats.fetched == 0
    assert remote.last_synced(url, tmp_path) == tree
    assert sorted(p.read_text() for p in tree.rglob("config.yaml")) == [f"lr: 0.{i}5\n" for i in range(4)]
