"""Time the app's first table frame and a filter keystroke on a warm cache (figures only, no asserts).

    python benchmarks/bench_app.py ROOT --cache-dir DIR

Index ROOT into DIR first (e.g. ``runsift ls ROOT --cache-dir DIR > /dev/null``) so the cache is warm.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from runsift.tui.app import RunsiftApp
from runsift.tui.widgets.run_table import RunTable


async def measure(root: Path, cache_dir: Path, state_dir: Path) -> None:
    started = time.perf_counter()
    app = RunsiftApp(root, cache_dir=cache_dir, state_dir=state_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(RunTable)
        while table.row_count == 0:
            await asyncio.sleep(0.01)
        first = time.perf_counter() - started
        await app.workers.wait_for_complete()
        await pilot.pause()
        full = time.perf_counter() - started
        total = table.row_count
        t = time.perf_counter()
        await pilot.press("slash", "f")
        await app.workers.wait_for_complete()
        await pilot.pause()
        keystroke = time.perf_counter() - t
        print(f"rows {total:,}: first table frame {first:.2f} s, full list and refresh {full:.2f} s, "
              f"filter keystroke to new rows {keystroke * 1000:.0f} ms ({table.row_count:,} rows match)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/runsift-bench-state"))
    args = parser.parse_args()
    asyncio.run(measure(args.root, args.cache_dir, args.state_dir))


if __name__ == "__main__":
    main()
