#!/usr/bin/env python3
"""The catalog at scale, SQLite and PostgreSQL side by side: bulk indexing, first page, filter, sort, ls, size.

Records come from ``gen_records.py`` (realistic rows, no files) and go through each catalog's own write
path (``catalog._store``: the same function a refresh calls with what its readers parsed), so indexing
throughput here is the database's share of a refresh, not parsing. With 1, 2 and 4 indexer processes,
each writing its own slice in batches of 500 (one transaction each).

Queries run in a fresh process per backend on the full catalog, timed one by one:
first page (open + ``head(100)``: the app's first frame), a filter (``val_auc>0.9``, every matching row,
as the app asks on a keystroke; SQLite's first filter loads the whole list into memory, the next one
reuses it), a sort (``-val_auc``, every row; first pages of a metric, a text and a 90%-tied sort, and of a
filtered sort), a filter's count, ``ls --format json`` of a filtered 10k
(``run_number<10000``), and the catalog's size on disk. PostgreSQL runs a real server started from the
machine's binaries (``pgserver.py``, durable: fsync on) unless ``--url`` names one.

Usage::

    python benchmarks/bench_scale.py --records 100000 [--procs 1,2,4] [--backends sqlite,postgresql] [--url URL [--reuse]]
    python benchmarks/bench_scale.py --records 100000 --index-records 0 --backends postgresql --url URL --reuse  # queries only
    python benchmarks/bench_scale.py --records 1000000 --index-records 20000 --into-fill --url URL --reuse  # indexing at 1M
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_records import batches, templates  # noqa: E402
from pgserver import pg_server  # noqa: E402

Row = tuple[Any, ...]


def _writer(backend: str, target: str, root: str, base: list[Row], start: int, stop: int, ready: Any, go: Any) -> None:
    """One indexer process: open the catalog, wait for the others, store its slice."""
    if backend == "sqlite":
        from runsift.core.catalog import Catalog, _store

        cat: Any = Catalog.open(root, cache_dir=target, refresh=False)

        def store(batch: list[Row]) -> None:
            with cat._lock, cat.db:
                _store(cat.db, batch)
    else:
        from runsift.core.pgcatalog import SharedCatalog

        cat = SharedCatalog.open(target, root, root_name="bench", index=True)
        host = socket.gethostname()

        def store(batch: list[Row]) -> None:
            with cat.conn.transaction():
                cat._store(batch, host)
    ready.wait()
    go.wait()
    for batch in batches(base, start, stop, root):
        store(batch)
    cat.close()


def index(backend: str, target: str, root: str, base: list[Row], n: int, procs: int, first: int = 0) -> float:
    """Seconds for ``procs`` processes to store ``n`` records between them (records ``first`` .. ``first + n - 1``)."""
    ctx = mp.get_context("spawn")
    ready, go = ctx.Barrier(procs + 1), ctx.Barrier(procs + 1)
    bounds = [first + n * k // procs for k in range(procs + 1)]
    workers = [ctx.Process(target=_writer, args=(backend, target, root, base, bounds[k], bounds[k + 1], ready, go)) for k in range(procs)]
    for w in workers:
        w.start()
    ready.wait()  # every process has imported and opened the catalog
    started = time.perf_counter()
    go.wait()
    for w in workers:
        w.join()
        if w.exitcode:
            raise SystemExit(f"an indexer process failed ({backend}, {procs} processes)")
    return time.perf_counter() - started


QUERY = r"""
import json, os, sys, time
t0 = time.perf_counter()
from runsift.core.query import parse_filter, parse_sort
from runsift.core.contract import summary_json
backend, target, root = sys.argv[1:4]
out = {}
t = time.perf_counter()
if backend == "sqlite":
    from runsift.core.catalog import Catalog
    cat = Catalog.open(root, cache_dir=target, refresh=False)
else:
    from runsift.core.pgcatalog import SharedCatalog
    cat = SharedCatalog.open(target, root_name="bench")
head, total = cat.head(100)
out["first page"] = time.perf_counter() - t
out["records"] = total
def timed(name, fn):
    t = time.perf_counter(); rows = fn(); out[name] = time.perf_counter() - t; out[name + " rows"] = len(rows)
timed("filter", lambda: cat.list(filters=[parse_filter("val_auc>0.9")]))
timed("filter again", lambda: cat.list(filters=[parse_filter("val_auc>0.91")]))
timed("filter first 100", lambda: cat.list(filters=[parse_filter("project=fraud-model")], limit=100))
timed("sort", lambda: cat.list(sort=parse_sort("-val_auc")))
timed("sort first 100", lambda: cat.list(sort=parse_sort("-train_loss"), limit=100))
timed("sort metric first 100", lambda: cat.list(sort=parse_sort("-val_auc"), limit=100))
timed("sort text first 100", lambda: cat.list(sort=parse_sort("name"), limit=100))
timed("sort ties first 100", lambda: cat.list(sort=parse_sort("-status"), limit=100))
timed("filtered sort first 100", lambda: cat.list(filters=[parse_filter("project=fraud-model")], sort=parse_sort("-val_auc"), limit=100))
timed("count filter", lambda: [None] * cat.count(filters=[parse_filter("val_auc>0.95")]))
def app(filters, sort=None, offset=0, after=None):
    # what the runs screen asks on a keystroke (RunsScreen.load_rows): a page, or the whole list where
    # the catalog holds it in memory; the count of matches when the page is full; the total and names
    page = cat.page_rows
    rows = cat.list(filters=[parse_filter(f) for f in filters], sort=parse_sort(sort) if sort else None, limit=page, offset=offset, after=after)
    if page is not None and len(rows) == page:
        cat.count(filters=[parse_filter(f) for f in filters])
    cat.count(); cat.projects(); cat.metric_names()
    return rows
# filters not asked before (a database keeps the count of a filter it listed by id, until a refresh)
timed("app filter", lambda: app(["val_auc>0.85"]))
timed("app filter again", lambda: app(["val_auc>0.89"]))
timed("app project", lambda: app(["project=nlp-intent"]))
timed("app sort", lambda: app([], "-val_auc"))
timed("app filtered sort", lambda: app(["project=churn-predictor"], "-val_auc"))
timed("app page mid", lambda: app([], "-val_auc", offset=out["records"] // 2) if cat.page_rows else [])
if cat.page_rows:  # the app asks for a next page after the last row it holds (keyset): that row's id, found untimed
    mid = out["records"] // 2
    before = cat.list(sort=parse_sort("-val_auc"), limit=1, offset=mid - 1)[0].id
    timed("app page mid after", lambda: app([], "-val_auc", offset=mid, after=before))
def ls():
    rows = cat.list(filters=[parse_filter("run_number<10000")])
    with open(os.devnull, "w") as f:
        f.write(json.dumps([summary_json(r) for r in rows]))
    return rows
timed("ls json 10k", ls)
print(json.dumps(out))
"""


def queries(backend: str, target: str, root: str) -> dict[str, Any]:
    """Query timings from a fresh process."""
    done = subprocess.run([sys.executable, "-c", QUERY, backend, target, root], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def cli_ls(url: str) -> float:
    """Wall time of ``runsift ls --catalog URL --root-name bench -f run_number<10000 --format json`` (a whole process)."""
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        subprocess.run([sys.executable, "-m", "runsift", "ls", "--catalog", url, "--root-name", "bench", "-f", "run_number<10000",
                        "--format", "json", "-q"], stdout=sink, check=True)
    return time.perf_counter() - started


def _db(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.replace("/postgres?", f"/{name}?")


def _held(url: str, name: str) -> int:
    """How many records the database ``name`` on the server at ``url`` holds (-1 when it does not exist)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return -1
    with psycopg.connect(url.replace("/postgres?", f"/{name}?")) as conn:
        if conn.execute("SELECT to_regclass('runs')").fetchone()[0] is None:
            return -1
        return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def _unfill(url: str, records: int) -> None:
    """Remove the records stored past the first ``records`` (run numbers from ``records`` on), so a reused fill stays as it was."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM vals WHERE rid IN (SELECT rid FROM runs WHERE root = 'bench' AND run_number >= %s)", (records,))
        conn.execute("DELETE FROM runs WHERE root = 'bench' AND run_number >= %s", (records,))


def _pg_size(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def _register(url: str, root: str) -> None:
    """The ``roots`` row a refresh writes at its end, so a reader can open the root by name."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO roots VALUES ('bench', %s, %s, %s) ON CONFLICT (name) DO NOTHING", (socket.gethostname(), root, time.time()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--procs", default="1,2,4")
    parser.add_argument("--index-records", type=int, default=20_000, help="records per throughput measure (default 20k)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--url", help="an existing PostgreSQL server (a superuser URL ending in /postgres?...)")
    parser.add_argument("--into-fill", action="store_true",
                        help="measure bulk indexing with each of --procs into the filled catalog, after the queries (new "
                             "records, removed again from a PostgreSQL catalog), instead of into fresh ones")
    parser.add_argument("--reuse", action="store_true",
                        help="with --url: keep its bench_fill database if it already holds --records records (queries only; "
                             "the catalog's DDL still runs, so a new index is built)")
    args = parser.parse_args()
    procs = [int(p) for p in args.procs.split(",") if p] if args.index_records else []
    into = procs if args.into_fill else []
    if args.into_fill:
        procs = []
    backends = args.backends.split(",")
    base = templates()
    work = Path(tempfile.mkdtemp(prefix="runsift-scale-"))
    root = work / "root"  # an empty folder: the records name folders below it that do not exist
    root.mkdir()
    results: dict[str, dict[str, Any]] = {b: {} for b in backends}
    with contextlib.ExitStack() as stack:
        server = args.url or (stack.enter_context(pg_server(durable=True)) if "postgresql" in backends else "")
        for backend in backends:
            for p in [*procs, 0]:  # 0: the full catalog the queries run on, by the most processes
                n, label = (args.index_records, f"index {p}") if p else (args.records, "fill")
                p = p or max(procs or into, default=4)
                if backend == "sqlite":
                    target = str(work / f"cache-{label}")
                elif label == "fill" and args.reuse and args.url and _held(server, "bench_fill") == n:
                    target = server.replace("/postgres?", "/bench_fill?")
                    print(f"{backend}: reusing bench_fill ({n:,} records)", file=sys.stderr, flush=True)
                    continue
                else:
                    target = _db(server, f"bench_{label.replace(' ', '_')}")
                seconds = index(backend, target, str(root), base, n, p)
                results[backend][label] = n / seconds
                print(f"{backend}: {n:,} records by {p} process(es) in {seconds:.1f} s", file=sys.stderr, flush=True)
            if backend == "postgresql":
                _register(target, str(root))
                from runsift.core.pgcatalog import SharedCatalog
                from runsift.core.pgschema import analyze

                with SharedCatalog.open(target, root_name="bench", index=True) as cat:
                    analyze(cat.conn)  # what a refresh does after a bulk change
            results[backend].update(queries(backend, target, str(root)))
            if backend == "sqlite":
                results[backend]["size"] = sum(f.stat().st_size for f in Path(target).iterdir())
            else:
                results[backend]["size"] = _pg_size(target)
                results[backend]["cli ls"] = cli_ls(target)
            first = args.records
            for p in into:  # into the full catalog: its indexes are as deep as a million records make them
                seconds = index(backend, target, str(root), base, args.index_records, p, first)
                first += args.index_records
                results[backend][f"index {p}"] = args.index_records / seconds
                print(f"{backend}: {args.index_records:,} more records by {p} process(es) in {seconds:.1f} s", file=sys.stderr, flush=True)
            if into and backend == "postgresql":
                _unfill(target, args.records)
    shutil.rmtree(work, ignore_errors=True)
    where = f"into the filled {args.records:,}-record catalog" if args.into_fill else "into a fresh catalog"
    print(f"`python benchmarks/bench_scale.py --records {args.records} --procs {args.procs} --index-records {args.index_records}"
          f"{' --into-fill' if args.into_fill else ''}`; bulk-index rows: {args.index_records:,} records a run {where}")
    print(table(results, args.records))


def table(results: dict[str, dict[str, Any]], n: int) -> str:
    """The figures as a Markdown table, one column a backend."""
    names = list(results)
    lines = [f"| {n:,} records | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label: str, key: str, fmt: Any) -> None:
        cells = [fmt(results[b][key]) if key in results[b] else "—" for b in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def ms(s: float) -> str:
        return f"{s * 1000:,.0f} ms"

    for p in (1, 2, 4, 8):
        row(f"bulk index, {p} process{'es' if p > 1 else ''}", f"index {p}", lambda v: f"{v:,.0f} records/s")
    fill_procs = max((int(k.split()[1]) for r in results.values() for k in r if k.startswith("index ")), default=4)
    row(f"bulk index of all {n:,}, {fill_procs} processes", "fill",
        lambda v: f"{v:,.0f} records/s")
    row("first page (open + head 100)", "first page", ms)
    row("filter val_auc>0.9, all matches (first keystroke)", "filter", ms)
    row("filter val_auc>0.91, all matches (next keystroke)", "filter again", ms)
    row("filter project=fraud-model, first 100", "filter first 100", ms)
    row("sort -val_auc, all rows", "sort", ms)
    row("sort -train_loss, first 100", "sort first 100", ms)
    row("sort -val_auc, first 100", "sort metric first 100", ms)
    row("sort name, first 100", "sort text first 100", ms)
    row("sort -status, first 100 (90% tie on one value, ties by id)", "sort ties first 100", ms)
    row("filter project=fraud-model sorted -val_auc, first 100", "filtered sort first 100", ms)
    row("count of val_auc>0.95 (not listed before)", "count filter", ms)
    row("app, first keystroke: filter val_auc>0.85 (59k matches at 1M; a page, or the whole list in memory; count, total, names)", "app filter", ms)
    row("app, next keystroke: filter val_auc>0.89 (18k matches at 1M)", "app filter again", ms)
    row("app: project=nlp-intent (the project picker)", "app project", ms)
    row("app: sort -val_auc", "app sort", ms)
    row("app: project=churn-predictor sorted -val_auc", "app filtered sort", ms)
    row("app: the page half-way down a -val_auc list, by offset", "app page mid", ms)
    row("app: the same page after the row before it (keyset: what scrolling asks)", "app page mid after", ms)
    row("ls --format json of a filtered 10k (in process)", "ls json 10k", ms)
    row("`runsift ls --format json` filtered 10k (whole command)", "cli ls", ms)
    row("size on disk", "size", lambda v: f"{v / 2**20:,.0f} MiB")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
