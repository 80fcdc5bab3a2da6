#!/usr/bin/env python3
"""An s3:// root against the same tree on local disk: `runsift ls URL --format json`, cold and warm (issue 14).

    python benchmarks/bench_remote.py --runs 10000 [--corpus DIR] [--repeat 3] [--profile]
    python benchmarks/bench_remote.py --corpus DIR --endpoint URL --keep CACHES [--warm-only]

Writes a corpus with gen_corpus.py (or uses ``--corpus``, a folder it wrote), starts moto's standalone
S3 server on a free local port (as tests/test_remote_s3.py does), uploads every file of the corpus
with many concurrent PUTs (not timed), then times whole CLI processes, stdout to /dev/null:

  local cold / warm   ``runsift ls DIR --format json --cache-dir C1``: C1 empty, then again (median of --repeat)
  s3 cold / warm      ``runsift ls s3://bench/runs-N --format json --cache-dir C2``: likewise; the cold one
                      lists the bucket and fetches what records need into the mirror, a warm one lists it
                      again, finds every ETag unchanged and opens the mirror's catalog
  app first frame     what ``runsift ROOT`` does before its first frame, in a fresh process, for both: for the
                      bucket, the mirror as last synced (no listing; the app syncs it in the background)

Row counts of the two are checked to be equal. Then the bucket's listing alone, the same call a sync makes
(``remotelist.list_tree`` through runsift's own filesystem options), in a fresh process,
``--listings`` times: its wall time, the client's CPU and moto's CPU (from /proc), so that a warm s3
open can be split into the listing and the rest (runsift's own work: comparing and the mirror's
catalog). ``--profile`` also runs one more warm s3 open under
cProfile, in process, and prints the top of it. Nothing asserts; the target printed is the issue's
(warm s3 within 3x of warm local). moto keeps its objects in memory: it is a stand-in for S3's API,
not for its latency (every request here is a local HTTP round trip to one Python process).

Uploading 10k runs to moto takes ~5 minutes and the cold s3 open ~20: ``--endpoint`` uses a server
already holding the corpus (uploaded by an earlier run, bucket ``bench``, folder named as the corpus),
``--keep`` keeps both caches in a folder, and ``--warm-only`` then times only warm opens of kept caches.
``--whole-listings K`` also times the listing as one ``fs.find`` (before it was split by folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUCKET = "bench"
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto's standalone server in a subprocess (no IAM enforcement: any key is accepted)."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto server did not start")


def upload(corpus: Path, endpoint: str, prefix: str, threads: int) -> int:
    """Every file of ``corpus`` to ``s3://BUCKET/prefix/...`` with ``threads`` concurrent PUTs; returns the count."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(max_pool_connections=threads),
                      aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket=BUCKET)
    files = [p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith(".")]

    def put(path: Path) -> None:
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{path.relative_to(corpus).as_posix()}", Body=path.read_bytes())

    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(put, files):
            pass
    return len(files)


def timed_ls(root: str, cache_dir: Path, env: dict[str, str], rows: bool = False) -> tuple[float, int | None, str]:
    """Wall time of one ``runsift ls ROOT --format json`` process; the row count when ``rows``; its stderr."""
    cmd = [sys.executable, "-m", "runsift", "ls", root, "--format", "json", "--cache-dir", str(cache_dir)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE if rows else subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wall, (len(json.loads(proc.stdout)) if rows else None), proc.stderr.strip()


def measure(root: str, cache_dir: Path, env: dict[str, str], repeat: int, warm_only: bool = False) -> dict:
    cold, rows, cold_err = timed_ls(root, cache_dir, env, rows=True)  # with warm_only: counts the rows, not timed
    if warm_only:
        cold = float("nan")
    warms, warm_err = [], ""
    for _ in range(repeat):
        wall, _, warm_err = timed_ls(root, cache_dir, env)
        warms.append(wall)
    return {"cold": cold, "warm": warms, "rows": rows, "cold_stderr": cold_err, "warm_stderr": warm_err}


def timed_app_open(root: str, cache_dir: Path, env: dict[str, str]) -> float:
    """Wall time of a fresh process doing what ``runsift ROOT`` does before its first frame: the remote root's
    hook (for a bucket synced whole before, no listing: the app syncs after), the catalog as cached, its first 100."""
    code = (
        "import sys; from pathlib import Path; from runsift.tui.cli import build_parser; "
        "from runsift.tui.remote_args import use_remote_roots; from runsift.core.catalog import Catalog; "
        "args = use_remote_roots(build_parser().parse_args(['app', sys.argv[1], '--cache-dir', sys.argv[2]])); "
        "cat = Catalog.open(Path(args.root), cache_dir=Path(sys.argv[2]), refresh=False); assert cat.head(100)[1] > 0"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, root, str(cache_dir)], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_listing(url: str, env: dict[str, str], server_pid: int | None, whole: bool = False) -> dict:
    """One listing of ``url`` as a sync lists it (``whole``: as one ``fs.find``, the way it did before the split), in a
    fresh process: wall and client CPU (in the child), and the server's CPU when its process id is known."""
    call = "fs.find(path.rstrip('/'), detail=True, withdirs=False)" if whole else "list_tree(fs, path.rstrip('/'))"
    code = (
        "import json, sys, time; from runsift.core.remote import _filesystem; from runsift.core.remotelist import list_tree; "
        "fs, path = _filesystem(sys.argv[1]); "
        f"c0 = time.process_time(); t0 = time.perf_counter(); n = len({call}); "
        "print(json.dumps({'wall': time.perf_counter() - t0, 'client_cpu': time.process_time() - c0, 'objects': n}))"
    )
    before = _cpu_of(server_pid) if server_pid else 0.0
    proc = subprocess.run([sys.executable, "-c", code, url], capture_output=True, env=env, text=True, check=True)
    return {**json.loads(proc.stdout), "moto_cpu": _cpu_of(server_pid) - before if server_pid else float("nan")}


def profile_warm(url: str, cache_dir: Path, env: dict[str, str]) -> None:
    code = (
        "import cProfile, pstats, sys; from runsift.tui.cli import main; "
        "p = cProfile.Profile(); p.enable(); main(sys.argv[1:]); p.disable(); sys.stdout = sys.__stderr__; "
        "pstats.Stats(p, stream=sys.stderr).sort_stats('cumulative').print_stats(30)"
    )
    proc = subprocess.run([sys.executable, "-c", code, "ls", url, "--format", "json", "--cache-dir", str(cache_dir)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    print(proc.stderr[-12000:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--corpus", type=Path, help="a corpus gen_corpus.py wrote (default: a new one in a temp folder)")
    ap.add_argument("--repeat", type=int, default=3, help="warm opens of each (median shown)")
    ap.add_argument("--threads", type=int, default=32, help="concurrent PUTs while uploading")
    ap.add_argument("--listings", type=int, default=1, help="times the bucket's listing alone (0: not at all)")
    ap.add_argument("--whole-listings", type=int, default=0, help="times it as one fs.find too, as before the split")
    ap.add_argument("--server-pid", type=int, help="with --endpoint: the server's process id, to report its CPU")
    ap.add_argument("--profile", action="store_true", help="also profile one warm s3 ls in process (cProfile)")
    ap.add_argument("--endpoint", help="a running S3 server whose bucket 'bench' holds the corpus (nothing started or uploaded)")
    ap.add_argument("--keep", type=Path, help="keep the local and s3 caches in this folder")
    ap.add_argument("--warm-only", action="store_true", help="with --keep: time only warm opens of the kept caches")
    args = ap.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    server = None
    try:
        corpus = args.corpus
        if corpus is None:
            corpus = scratch / f"runs-{args.runs}"
            subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--out", str(corpus), "--runs", str(args.runs)], check=True)
        corpus = corpus.resolve()
        if args.endpoint:
            endpoint, count = args.endpoint, sum(1 for p in corpus.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            server, endpoint = start_moto()
            t0 = time.perf_counter()
            count = upload(corpus, endpoint, corpus.name, args.threads)
            print(f"uploaded {count:,} objects to moto in {time.perf_counter() - t0:.0f} s (not timed below)", flush=True)
        caches = args.keep or scratch
        env = {**os.environ, **KEYS, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        url = f"s3://{BUCKET}/{corpus.name}"
        load = os.getloadavg()[0]
        local = measure(str(corpus), caches / "cache-local", env, args.repeat, args.warm_only)
        remote = measure(url, caches / "cache-s3", env, args.repeat, args.warm_only)
        apps = {name: [timed_app_open(root, caches / cache, env) for _ in range(args.repeat)]
                for name, root, cache in (("local", str(corpus), "cache-local"), ("s3", url, "cache-s3"))}
        pid = server.pid if server else args.server_pid
        listings = [time_listing(url, env, pid) for _ in range(args.listings)]
        wholes = [time_listing(url, env, pid, whole=True) for _ in range(args.whole_listings)]
        if local["rows"] != remote["rows"]:
            print(f"ROW COUNTS DIFFER: local {local['rows']}, s3 {remote['rows']}")
        lw, rw = statistics.median(local["warm"]), statistics.median(remote["warm"])
        print(f"\n{local['rows']:,} rows each; 1-minute load {load:.1f} before, {os.getloadavg()[0]:.1f} after\n")
        print("| `runsift ls --format json` | cold s | warm s (median; min–max) |")
        print("|---|---:|---:|")
        for name, r in (("local disk", local), (f"s3 (moto), {count:,} objects", remote)):
            print(f"| {name} | {r['cold']:.1f} | {statistics.median(r['warm']):.2f} ({min(r['warm']):.2f}–{max(r['warm']):.2f}) |")
        print(f"\nwarm s3 / warm local = {rw / lw:.2f}x (target: within 3x)")
        la, ra = statistics.median(apps["local"]), statistics.median(apps["s3"])
        print(f"app, up to its first frame (a fresh process; median of {args.repeat}): local {la:.2f} s, s3 {ra:.2f} s "
              f"({min(apps['s3']):.2f}–{max(apps['s3']):.2f}): {ra / la:.2f}x; the app then syncs the bucket in the background")
        print(f"s3 cold: {remote['cold_stderr'].splitlines()[-1] if remote['cold_stderr'] else ''}")
        print(f"s3 warm: {remote['warm_stderr'].splitlines()[-1] if remote['warm_stderr'] else ''}")
        for i, li in enumerate(listings):
            print(f"listing alone #{i + 1}: {li['objects']:,} objects in {li['wall']:.2f} s wall (client CPU {li['client_cpu']:.2f} s, "
                  f"moto CPU {li['moto_cpu']:.2f} s); warm s3 median minus this listing: {rw - li['wall']:.2f} s")
        for i, li in enumerate(wholes):
            print(f"one fs.find #{i + 1} (before the split): {li['objects']:,} objects in {li['wall']:.2f} s wall "
                  f"(client CPU {li['client_cpu']:.2f} s, moto CPU {li['moto_cpu']:.2f} s)")
        if args.profile:
            profile_warm(url, scratch / "cache-s3", env)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
