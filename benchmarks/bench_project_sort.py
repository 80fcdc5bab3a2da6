#!/usr/bin/env python3
"""A project sorted within itself on a shared catalog: the plan by the indexes by project beside the one before it.

On one catalog (a ``bench_scale.py`` fill, by default its ``bench_fill`` database), the first page of each
``project=P`` under each sort (a metric, a name, a start), in rounds that alternate the two plans: this
runsift's, and the one it used before (``SharedCatalog._project_index`` forced off: the project's records
found first and joined with every record's value of the key). Prints the fastest and slowest of each.

    python benchmarks/bench_project_sort.py --url 'postgresql://postgres@/postgres?host=/tmp/.../sock&port=5432'
"""

from __future__ import annotations

import argparse
import time

from runsift.core.pgcatalog import SharedCatalog
from runsift.core.query import parse_filter, parse_sort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server bench_scale.py filled (its /postgres URL), or a catalog's URL with --database ''")
    parser.add_argument("--database", default="bench_fill", help="the database to read (default bench_fill; '' to use the URL as given)")
    parser.add_argument("--root-name", default="bench")
    parser.add_argument("--projects", default="fraud-model,churn-predictor,nlp-intent")
    parser.add_argument("--sorts", default="-val_auc,name,-started")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=100, help="rows a page (the app asks 2,000)")
    args = parser.parse_args()
    url = args.url.replace("/postgres?", f"/{args.database}?") if args.database else args.url
    projects = [p for p in args.projects.split(",") if p]
    sorts = [p for p in args.sorts.split(",") if p]
    times: dict[tuple[bool, str, str], list[float]] = {}
    with SharedCatalog.open(url, root_name=args.root_name) as cat:
        for _ in range(args.rounds):
            for by_project in (True, False):
                for sort in sorts:
                    for project in projects:
                        cat._forget()
                        cat._project_index = by_project
                        started = time.perf_counter()
                        cat.list(filters=[parse_filter(f"project={project}")], sort=parse_sort(sort), limit=args.limit)
                        times.setdefault((by_project, sort, project), []).append(time.perf_counter() - started)
    print(f"| project, first {args.limit} ({args.rounds} rounds) | sort | before | by project |")
    print("|---|---|---|---|")
    for sort in sorts:
        for project in projects:
            cells = [f"{min(t) * 1000:,.0f}–{max(t) * 1000:,.0f} ms" for t in (times[(False, sort, project)], times[(True, sort, project)])]
            print(f"| {project} | `{sort}` | {cells[0]} | {cells[1]} |")

if __name__ == "__main__":
    main()
