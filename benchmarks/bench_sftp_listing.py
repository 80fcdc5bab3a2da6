#!/usr/bin/env python3
"""The listing of an sftp:// root, as one recursive ``fs.find`` and as runsift splits it (issue 14).

    python benchmarks/bench_sftp_listing.py /tmp/rsbench/runs-10000 [--rounds 2]

Serves the folder with a local OpenSSH sshd on a free port (the server ``tests/test_remote_sftp.py`` starts:
generated host and user keys, HOME in a temporary folder), then lists it through runsift's own
filesystem options, alternating the two ways, each on a fresh connection: wall time and the client's
CPU. Over SFTP a recursive listing is a walk, one ``readdir`` per folder, and sshfs walks them one after
another; the split walks the root's folders side by side. Nothing asserts; loopback has no latency, so
this shows the client's side of it, not a network's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="the folder to serve (a gen_corpus.py corpus)")
    ap.add_argument("--rounds", type=int, default=2, help="times each way is timed, alternating")
    args = ap.parse_args()
    if not Path("/usr/sbin/sshd").exists():
        raise SystemExit("needs OpenSSH's sshd: apt-get install -y openssh-server")
    sys.path.insert(0, str(HERE.parent / "tests"))
    import test_remote_sftp  # the tests' own sshd

    server = test_remote_sftp.start_server(Path(tempfile.mkdtemp(prefix="bench-sftp-")), args.folder.resolve())
    os.environ["HOME"] = str(server.home)
    from runsift.core.remote import _filesystem
    from runsift.core.remotelist import list_tree

    try:
        for _ in range(args.rounds):
            for how in ("one fs.find", "split"):
                fs, path = _filesystem(server.url)
                t0, c0 = time.perf_counter(), time.process_time()
                top = path.rstrip("/")
                n = len(fs.find(top, detail=True, withdirs=False) if how == "one fs.find" else list_tree(fs, top))
                print(f"{how}: {n:,} files in {time.perf_counter() - t0:.2f} s wall, client CPU {time.process_time() - c0:.2f} s", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
