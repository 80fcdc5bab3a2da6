#!/usr/bin/env python3
"""What the app asks a shared catalog on a keystroke, for filters and sorts beyond bench_scale.py's fixed set.

On a ``bench_scale.py`` fill (its ``bench_fill`` database by default), each case is the runs screen's query: a
page of 2,000 rows (``list(..., limit=2000)``), then the count of matches when the page is full. Kept answers are
dropped before each case (``_forget``), as a new filter or sort would find them. Prints the list's time and the
time with the count, per case, for each of ``--runs`` passes.

Then the next key typed while a list's matches are counted: the count of a broad filter starts (as the app's does
0.3 s after its page shows), and 0.1 s later the page of another filter is asked. Timed with the count on a
connection of its own and stopped as the page is asked (``background=True`` and ``cancel_counts()``: the app's), on
a connection of its own and left to run, and on the one connection (as before), in turn.

    python benchmarks/bench_pg_queries.py --url 'postgresql://postgres@/postgres?host=/tmp/.../sock&port=5432'
"""

from __future__ import annotations

import argparse
import contextlib
import threading
import time

from runsift.core.catalog import CatalogError
from runsift.core.pgcatalog import SharedCatalog
from runsift.core.query import parse_filter, parse_sort

CASES: list[tuple[list[str], str | None]] = [
    (["project=churn-predictor"], "name"), (["project=churn-predictor"], "-started"), (["project=churn-predictor"], "status"),
    (["project=churn-predictor"], "-val_auc"), (["project~churn"], "-val_auc"),
    (["status=failed"], "-val_auc"), (["status=finished"], "-val_auc"), (["project=churn-predictor", "status=finished"], "-val_auc"),
    (["config.optimizer.lr>0.001"], None), (["config.optimizer.lr>0.001"], "-val_auc"), (["run-00001"], None),
    (["name~run-00001"], "-val_auc"), ([], "config.batch_size"), ([], "-started"), ([], "name"),
    (["project=churn-predictor"], "config.batch_size"), (["val_auc>0.7"], "-val_f1"),
]
TYPED: list[tuple[str, str, str | None]] = [  # (filter being counted, filter typed next, its sort)
    ("status=finished", "status=finished project=churn-predictor", "-val_auc"),
    ("config.optimizer.lr>0.001", "config.optimizer.lr>0.0015", None),
    ("val_auc>0.7", "val_auc>0.75", "-val_f1"),
]


def typed_while_counting(
    cat: SharedCatalog, counted: str, typed: str, sort: str | None, page: int, background: bool, stop: bool = False,
) -> tuple[float, float]:
    """Seconds from asking ``typed``'s page to having it, while ``counted``'s count runs (``stop``: stopped first); and
    the count's own seconds (until stopped)."""
    cat._forget()
    took: list[float] = []

    def count() -> None:
        started = time.perf_counter()
        with contextlib.suppress(CatalogError):  # stopped
            cat.count(filters=[parse_filter(counted)], background=background)
        took.append(time.perf_counter() - started)

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.1)
    started = time.perf_counter()
    if stop:
        cat.cancel_counts()
    cat.list(filters=[parse_filter(f) for f in typed.split()], sort=parse_sort(sort) if sort else None, limit=page)
    listed = time.perf_counter() - started
    counter.join()
    return listed, took[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server bench_scale.py filled (its /postgres URL)")
    parser.add_argument("--database", default="bench_fill", help="the database to read (default bench_fill; '' to use the URL as given)")
    parser.add_argument("--root-name", default="bench")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--page", type=int, default=2000, help="rows a page (the app's page_rows)")
    args = parser.parse_args()
    url = args.url.replace("/postgres?", f"/{args.database}?") if args.database else args.url
    print("| filters | sort | rows | list | list + count |")
    print("|---|---|---|---|---|")
    with SharedCatalog.open(url, root_name=args.root_name) as cat:
        for _ in range(args.runs):
            for filters, sort in CASES:
                parsed = [parse_filter(f) for f in filters]
                cat._forget()
                started = time.perf_counter()
                rows = cat.list(filters=parsed, sort=parse_sort(sort) if sort else None, limit=args.page)
                listed = time.perf_counter() - started
                if len(rows) == args.page:
                    cat.count(filters=parsed)
                total = time.perf_counter() - started
                print(f"| `{' '.join(filters) or '(none)'}` | `{sort or 'id'}` | {len(rows):,} | {listed * 1000:,.0f} ms | {total * 1000:,.0f} ms |",
                      flush=True)
        print("\n| being counted | typed next (sort) | its page: count stopped (the app) | count left on its own connection "
              "| count on the one connection | the count left to run: own / one connection |")
        print("|---|---|---|---|---|---|")
        for _ in range(args.runs):
            for counted, typed, sort in TYPED:
                stopped, _ = typed_while_counting(cat, counted, typed, sort, args.page, True, stop=True)
                aside, took = typed_while_counting(cat, counted, typed, sort, args.page, True)
                shared, took_too = typed_while_counting(cat, counted, typed, sort, args.page, False)
                print(f"| `{counted}` | `{typed}` (`{sort or 'id'}`) | {stopped * 1000:,.0f} ms | {aside * 1000:,.0f} ms | "
                      f"{shared * 1000:,.0f} ms | {took * 1000:,.0f} / {took_too * 1000:,.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
