"""An sftp:// root against a real OpenSSH server (a local sshd on a free port, started here).

The server gets a generated host key and accepts one generated user key; the client finds its
key and the host key in ``~/.ssh`` as a user's would (HOME is a temporary folder). Skipped, saying
why, only when ``/usr/sbin/sshd`` is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runsift.core import remote
from runsift.tui.cli import main

pytest.importorskip("sshfs")
SSHD = Path("/usr/sbin/sshd")
if not SSHD.exists() or shutil.which("ssh-keygen") is None:
    pytest.skip("OpenSSH's sshd is not installed (apt-get install -y openssh-server; .ci/run does it)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RUNS = REPO / "sample_runs"


@dataclass
class SSHServer:
    port: int
    process: subprocess.Popen[bytes]
    served: Path
    home: Path

    @property
    def url(self) -> str:
        return f"sftp://{getpass.getuser()}@127.0.0.1:{self.port}{self.served}"

    def stop(self) -> None:
        """Kill the listener and every session it forked (they are ours: started by this test)."""
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def start_server(base: Path, served: Path, *, trust_host: bool = True, authorize: bool = True, port: int | None = None) -> SSHServer:
    """sshd on a free port serving ``served`` over sftp to a user whose HOME is ``base/home``."""
    etc, home = base / "etc", base / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    etc.mkdir(exist_ok=True)
    host_pub = _keygen(etc / "host_key") if not (etc / "host_key").exists() else (etc / "host_key.pub").read_text().strip()
    user_pub = _keygen(home / ".ssh" / "id_ed25519") if not (home / ".ssh" / "id_ed25519").exists() else (home / ".ssh" / "id_ed25519.pub").read_text()
    (etc / "authorized_keys").write_text(user_pub + "\n" if authorize else "")
    port = port or _free_port()
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n" if trust_host else "")
    config = etc / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {etc / 'host_key'}\nAuthorizedKeysFile {etc / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
        f"StrictModes no\nUsePAM no\nPidFile {etc / 'sshd.pid'}\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation folder (the package's service makes it)
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        if process.poll() is not None:
            pytest.fail(f"sshd did not start: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return SSHServer(port, process, served, home)


@pytest.fixture
def sshd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SSHServer]:
    served = tmp_path / "served" / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, served)
    server = start_server(tmp_path / "ssh", served)
    monkeypatch.setenv("HOME", str(server.home))
    monkeypatch.setenv("COLUMNS", "400")
    yield server
    server.stop()


def _snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file below ``folder`` with size, mtime and content hash: what "nothing written" compares."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {p.relative_to(folder).as_posix() + "/": (0, 0, "") for p in folder.rglob("*") if p.is_dir()}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ls_and_show_over_sftp_match_the_folder_and_nothing_is_written(sshd: SSHServer, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(sshd.served)
    code, out, err = run(capsys, "ls", sshd.url, "--format", "json")
    assert code == 0, err
    remote_rows = json.loads(out)
    _, out, _ = run(capsys, "ls", str(SAMPLE_RUNS), "--format", "json", "-q")
    local_rows = json.loads(out)
    assert [(r["id"], r["kind"], r["status"], r["metrics"]) for r in remote_rows] == [(r["id"], r["kind"], r["status"], r["metrics"]) for r in local_rows]
    assert all(r["path"] == remote.shown_url(sshd.url) + "/" + r["id"] for r in remote_rows)
    run_id = next(r["id"] for r in local_rows if r["kind"] == "run" and r["status"] == "finished")
    code, out, err = run(capsys, "show", run_id, "--root", sshd.url, "--format", "json", "-q")
    assert code == 0, err
    _, local, _ = run(capsys, "show", run_id, "--root", str(SAMPLE_RUNS), "--format", "json", "-q")
    assert json.loads(out)["metrics"] == json.loads(local)["metrics"]
    assert json.loads(out)["config"] == json.loads(local)["config"]
    assert _snapshot(sshd.served) == before, "the served folder was written to"


def test_only_changed_files_are_fetched_again(sshd: SSHServer, capsys: pytest.CaptureFixture[str]) -> None:
    first = remote.mirror(sshd.url)
    assert first.stats.fetched == first.stats.listed > 100
    assert remote.mirror(sshd.url).stats.fetched == 0
    notes = next(sshd.served.rglob("notes.md"))
    notes.write_text("rewritten by a teammate\n")
    os.utime(notes, (time.time() + 5, time.time() + 5))
    again = remote.mirror(sshd.url)
    assert (again.stats.fetched, again.stats.bytes_fetched) == (1, len("rewritten by a teammate\n"))
    assert (again.path / notes.relative_to(sshd.served)).read_text() == "rewritten by a teammate\n"


def test_unknown_host_refused_login_and_missing_folder_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    served = tmp_path / "served"
    shutil.copytree(SAMPLE_RUNS, served)
    for kwargs, expected in (({"trust_host": False}, "host key not known"), ({"authorize": False}, "login refused")):
        server = start_server(tmp_path / "ssh", served, **kwargs)
        monkeypatch.setenv("HOME", str(server.home))
        try:
            code, out, err = run(capsys, "ls", server.url)
        finally:
            server.stop()
        assert code == 2 and not out
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert expected in err
    server = start_server(tmp_path / "ssh", served / "no-such-folder")
    try:
        code, out, err = run(capsys, "ls", server.url)
    finally:
        server.stop()
    assert code == 2 and "no such bucket or folder" in err and len(err.strip().splitlines()) == 1


def test_a_connection_dropped_mid_index_resumes_next_time(sshd: SSHServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(remote, "BATCH_FILES", 16)
    calls: list[int] = []

    def drop_after_two(done: int, todo: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            sshd.stop()

    with pytest.raises(remote.RemoteError) as caught:
        remote.mirror(sshd.url, on_batch=drop_after_two)
    assert "\n" not in str(caught.value) and "resume" in str(caught.value)
    tree = remote.mirror_folder(sshd.url) / "sample_runs"
    mirrored = [p for p in tree.rglob("*") if p.is_file()]
    assert 0 < len(mirrored) < sum(1 for p in SAMPLE_RUNS.rglob("*") if p.is_file())
    for path in mirrored:  # nothing half-written: each file whole (or an unread artifact's placeholder)
        rel = path.relative_to(tree).as_posix()
        expected = (SAMPLE_RUNS / rel).read_bytes()
        assert path.stat().st_size == len(expected)
        assert path.read_bytes() == expected or remote.plan(rel, len(expected)) == ()
    again = start_server(tmp_path / "ssh", sshd.served, port=sshd.port)  # the same URL: the same mirror
    try:
        resumed = remote.mirror(again.url)
    finally:
        again.stop()
    assert resumed.stats.kept == len(mirrored)
    assert resumed.stats.fetched == resumed.stats.listed - len(mirrored)
