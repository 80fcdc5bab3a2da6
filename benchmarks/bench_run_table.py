#!/usr/bin/env python3
"""Time RunTable with many synthetic rows in a headless Textual app.

Measures, at 120x40:

  first render   set_rows(N rows) until the first frame has been drawn
  50 pagedown    50 presses of pagedown through the pilot (each moves the cursor, scrolls a
                 page and draws a frame); "baseline" is 50 presses of an unbound key, which
                 is the pilot's own cost per key press (it waits for the app to go idle)
  widget only    50 pagedown actions called directly, each followed by render_line() of
                 every line on screen: the table's own cost, without the pilot or compositor
  re-sort        set_rows() with the rows sorted by another key (cursor kept on its record)

    python benchmarks/bench_run_table.py              # 100,000 rows
    python benchmarks/bench_run_table.py --rows 10000 100000

No asserts: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from textual.app import App, ComposeResult

from runsift.core.records import Problem, Summary
from runsift.tui.widgets.run_table import Column, RunTable

COLUMNS = (
    Column("project", "project", "left", 7, 20),
    Column("name", "name", "left", 8, 36),
    Column("started", "started", "left", 16, 16),
    Column("status", "status", "left", 8, 10),
    Column("metric:val_auc", "val_auc", "right", 7, 14),
    Column("metric:val_loss", "val_loss", "right", 7, 14),
    Column("metric:train_loss", "train_loss", "right", 7, 14),
    Column("problems", "!", "right", 2, 4),
)
STATUSES = ("finished", "finished", "finished", "failed", "incomplete")


def make_rows(n: int) -> list[Summary]:
    rows = []
    for i in range(n):
        project = f"project-{i % 17:02d}"
        name = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}_{i % 24:02d}-{i % 60:02d}-{(i * 7) % 60:02d}_run-{i:06d}"
        rows.append(
            Summary(
                id=f"{project}/{name}",
                kind="run",
                project=project,
                name=name,
                path=f"{project}/{name}",
                status=STATUSES[i % len(STATUSES)],
                started=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00",
                run_number=i,
                sweep=None,
                metrics={"val_auc": 0.8 + (i * 7919 % 1000) / 10_000, "val_loss": 0.3 + (i % 97) / 1000, "train_loss": 0.1 + (i % 89) / 1000},
                problems=(Problem("metrics.json", "bad line", 3),) if i % 50 == 0 else (),
            )
        )
    return rows


class BenchApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RunTable()

    def on_mount(self) -> None:
        self.query_one(RunTable).focus()


async def bench(n: int) -> None:
    t = time.perf_counter()
    rows = make_rows(n)
    build = time.perf_counter() - t
    app = BenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(RunTable)
        await pilot.pause()

        t = time.perf_counter()
        table.set_rows(rows, COLUMNS)
        await pilot.pause()  # the frame with the rows is drawn before pause returns
        first = time.perf_counter() - t

        t = time.perf_counter()
        for _ in range(50):
            await pilot.press("x")  # not bound: the pilot's own cost
        await pilot.pause()
        baseline = time.perf_counter() - t

        t = time.perf_counter()
        for _ in range(50):
            await pilot.press("pagedown")
        await pilot.pause()
        paging = time.perf_counter() - t
        cursor = table.cursor_row

        height = table.size.height
        t = time.perf_counter()
        for _ in range(50):
            table.action_cursor_page_down()
            for y in range(height):
                table.render_line(y)
        direct = time.perf_counter() - t
        await pilot.pause()

        current = table.current
        t = time.perf_counter()
        by_auc = sorted(rows, key=lambda r: r.metrics["val_auc"], reverse=True)
        sort_only = time.perf_counter() - t
        table.set_rows(by_auc, COLUMNS)
        table.set_sort("metric:val_auc", True)
        await pilot.pause()
        resort = time.perf_counter() - t
        kept = table.current == current
        cached = len(table._row_cache)

    print(f"rows            {n:>10,}   (building the Summary list: {build:.2f} s, not counted)")
    print(f"first render    {first * 1000:>10.1f} ms")
    print(f"50 pagedown     {paging * 1000:>10.1f} ms   ({paging * 1000 / 50:.1f} ms each; cursor now on row {cursor:,})")
    print(f"  baseline      {baseline * 1000:>10.1f} ms   (50 unbound key presses: {baseline * 1000 / 50:.1f} ms each)")
    print(f"widget only     {direct * 1000:>10.1f} ms   (50 x page down + render_line of {height} lines: {direct * 1000 / 50:.1f} ms a page)")
    print(f"re-sort         {resort * 1000:>10.1f} ms   (of which sorted(): {sort_only * 1000:.1f} ms; cursor kept on its record: {kept})")
    print(f"row cache       {cached:>10} strips")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    args = parser.parse_args()
    for n in args.rows:
        asyncio.run(bench(n))


if __name__ == "__main__":
    main()
