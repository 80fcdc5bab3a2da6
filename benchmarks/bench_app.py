"""Time the app on a warm cache: first table frame, filter keystrokes, sorts and scrolling (figures only).

    python benchmarks/bench_app.py ROOT --cache-dir DIR

Index ROOT into DIR first (e.g. ``runsift ls ROOT --cache-dir DIR > /dev/null``) so the cache is warm.
Two figures per interaction:

- with the test driver: from ``pilot.press`` until the workers are done and the screen is idle
  (the driver's own cost per key is measured with a key the app ignores, and reported, not subtracted);
- the app's own time: from the screen asking for rows (``load_rows``) until the table holds them
  (``RunTable.set_rows`` returned); drawing the visible rows adds ~5-15 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from textual.worker import WorkerCancelled

from runsift.tui.app import RunsiftApp
from runsift.tui.screens.runs import RunsScreen
from runsift.tui.widgets.run_table import RunTable

_asked: list[float] = []
_own: list[float] = []
"""The app's own time of each query, in ms, in order."""


def _instrument() -> None:
    """Record when the screen asks for rows and when the table has them (the app's own latency)."""
    load_rows, set_rows = RunsScreen.load_rows, RunTable.set_rows

    def asked(self: RunsScreen, *args: Any, **kwargs: Any) -> Any:
        _asked[:] = [time.perf_counter()]
        return load_rows(self, *args, **kwargs)

    def shown(self: RunTable, *args: Any, **kwargs: Any) -> Any:
        result = set_rows(self, *args, **kwargs)
        if _asked:
            _own.append((time.perf_counter() - _asked.pop()) * 1000)
        return result

    RunsScreen.load_rows, RunTable.set_rows = asked, shown  # type: ignore[method-assign]


async def _settle(app: RunsiftApp, pilot: Any) -> None:
    while True:  # a worker replaced by a newer one of its group raises here: wait for the newer
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()


async def _timed(app: RunsiftApp, pilot: Any, *keys: str) -> float:
    started = time.perf_counter()
    await pilot.press(*keys)
    await _settle(app, pilot)
    return (time.perf_counter() - started) * 1000


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


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
        print(f"rows {table.row_count:,}: first table frame {first:.2f} s; full list, quick check and presort done {full:.2f} s")

        idle = [await _timed(app, pilot, "f12") for _ in range(3)]
        print(f"driver cost of one key the app ignores: {statistics.median(idle):.0f} ms")

        scroll = [await _timed(app, pilot, "pagedown") for _ in range(10)]
        print(f"page down: median {statistics.median(scroll):.0f} ms, max {max(scroll):.0f} ms (with the driver)")

        mark = len(_own)
        sorts = [await _timed(app, pilot, "s") for _ in range(4)]
        sorts.append(await _timed(app, pilot, "S"))
        print(f"sort (s four times, then S): {_ms(sorts)} ms with the driver; app's own {_ms(_own[mark:])} ms")

        await pilot.press("slash")
        await _settle(app, pilot)
        mark = len(_own)
        typed = [await _timed(app, pilot, ch) for ch in "fraud"]
        print(f"typing 'fraud': {_ms(typed)} ms a key with the driver; app's own {_ms(_own[mark:])} ms; "
              f"{table.row_count:,} rows match")
        for _ in "fraud":
            await pilot.press("backspace")
        await _settle(app, pilot)
        mark = len(_own)
        typed = [await _timed(app, pilot, ch) for ch in "val_auc>0.9"]
        own = _own[mark:]
        print(f"typing 'val_auc>0.9': median {statistics.median(typed):.0f} ms, max {max(typed):.0f} ms with the driver; "
              f"app's own median {statistics.median(own) if own else 0:.0f} ms, max {max(own, default=0):.0f} ms; "
              f"{table.row_count:,} rows match")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/runsift-bench-state"))
    parser.add_argument("--size", default="120x40", help="terminal size COLSxROWS (default 120x40)")
    args = parser.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    args.state_dir.mkdir(parents=True, exist_ok=True)
    _instrument()
    asyncio.run(measure(args.root, args.cache_dir, args.state_dir, (cols, rows)))


if __name__ == "__main__":
    main()
