"""A throwaway PostgreSQL server from the machine's binaries (initdb + pg_ctl), for benchmarks and trials.

``with pg_server() as url:`` starts one in a temporary folder (as the ``postgres`` user when run as
root, since initdb refuses root), listening on a Unix socket only, and removes it afterwards.
``python benchmarks/pgserver.py`` starts one and prints its URL until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def pg_server(durable: bool = False) -> Iterator[str]:
    """A fresh server's URL; ``durable`` keeps fsync on (what a real deployment does) for honest write figures."""
    bindir = pg_bin()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries: apt-get install -y postgresql")
    base = Path(tempfile.mkdtemp(prefix="runsift-pgbench-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    user = None
    if os.geteuid() == 0:
        pwd.getpwnam("postgres")
        user = "postgres"
        shutil.chown(base, user)
        shutil.chown(sock, user)
        os.chmod(base, 0o755)

    def run(*cmd: str) -> None:
        full = ["runuser", "-u", user, "--", *cmd] if user else list(cmd)
        done = subprocess.run(full, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip()[-2000:]}")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
        *(() if durable else ("--no-sync",)))
    opts = f"-k {sock} -p {port} -c listen_addresses='' -c shared_buffers=256MB"
    if not durable:
        opts += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(base / "log"), "start")
    try:
        yield f"postgresql://postgres@/postgres?host={sock}&port={port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(base, ignore_errors=True)


def data_dir(url: str) -> Path:
    """The data folder of a server started by :func:`pg_server` (to measure its size)."""
    sock = url.split("host=", 1)[1].split("&", 1)[0]
    return Path(sock).parent / "data"


if __name__ == "__main__":
    with pg_server() as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read() if not sys.stdin.isatty() else input("Enter stops the server\n")
