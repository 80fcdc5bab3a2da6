"""Time the app on a warm cache: first table frame, filter keystrokes, sorts and scrolling (figures only).

    python benchmarks/bench_app.py ROOT --cache-dir DIR

Index ROOT into DIR first (e.g. ``runsift ls ROOT --cache-dir DIR > /dev/null``) so the cache is warm.
Each interaction is timed from the key press until the table holds the new rows (the query runs in a
worker, so this is what a person waits for); the pilot's own cost per key is measured with a key the
app ignores and reported, not subtracted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from runsift.tui.app import RunsiftApp
from runsift.tui.widgets.run_table import RunTable
from textual.worker import WorkerCancelled


async def _settle(app: RunsiftApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _timed(app: RunsiftApp, pilot, *keys: str) -> float:
    started = time.perf_counter()
    await pilot.press(*keys)
    await _settle(app, pilot)
    return (time.perf_counter() - started) * 1000


async def measure(root: Path, cache_dir: Path, state_dir: Path, size: tuple[int, int]) -> None:
    for old in state_dir.glob("*"):
        old.unlink()  # no saved filter or sort from an earlier run
    started = time.perf_counter()
    app = RunsiftApp(root, cache_dir=cache_dir, state_dir=state_dir)
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one(RunTable)
        while table.row_count == 0:
            await asyncio.sleep(0.005)
        first = time.perf_counter() - started
        await _settle(app, pilot)
        full = time.perf_counter() - started
        total = table.row_count
        print(f"rows {total:,}: first table frame {first:.2f} s; full list and refresh done {full:.2f} s")

        idle = [await _timed(app, pilot, "f12") for _ in range(3)]
        print(f"pilot cost of one key the app ignores: {statistics.median(idle):.0f} ms")

        scroll = [await _timed(app, pilot, "pagedown") for _ in range(10)]
        print(f"page down: median {statistics.median(scroll):.0f} ms, max {max(scroll):.0f} ms")

        sorts = []
        for _ in range(4):
            sorts.append(await _timed(app, pilot, "s"))
        print(f"sort (s, next column): {', '.join(f'{t:.0f}' for t in sorts)} ms")
        print(f"sort reverse (S): {await _timed(app, pilot, 'S'):.0f} ms")

        await pilot.press("slash")
        await _settle(app, pilot)
        typed = []
        for ch in "fraud":
            typed.append(await _timed(app, pilot, ch))
        print(f"typing 'fraud' in the filter: {', '.join(f'{t:.0f}' for t in typed)} ms per key; {table.row_count:,} rows match")
        for _ in "fraud":
            await pilot.press("backspace")
        await _settle(app, pilot)
        typed = []
        for ch in "val_auc>0.9":
            typed.append(await _timed(app, pilot, ch))
        print(f"typing 'val_auc>0.9': median {statistics.median(typed):.0f} ms, max {max(typed):.0f} ms per key; {table.row_count:,} rows match")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/runsift-bench-state"))
    parser.add_argument("--size", default="120x40", help="terminal size COLSxROWS (default 120x40)")
    args = parser.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    args.state_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(measure(args.root, args.cache_dir, args.state_dir, (cols, rows)))


if __name__ == "__main__":
    main()
