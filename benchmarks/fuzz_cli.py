"""Mutation fuzzer for the command line: mutate a copy of ``sample_runs``, run the CLI in-process, count what breaks.

Each case copies nothing: it mutates one to three files of a private copy of ``sample_runs`` (byte flips,
truncation, escapes, Rich markup and bidi controls inserted, huge and non-finite numbers, deep nesting,
values of the wrong type, renames to hostile names), runs one command through
``runsift.tui.cli.main`` (``ls`` in three formats, ``show``, ``diff``, ``explain``, ``sweep``, ``ab``,
``audit``), then puts every file back. It reports

* uncaught exceptions (anything but a normal return or argparse's SystemExit) with their traceback, and
* raw control characters in any output: C0 (but tab and newline), DEL, C1, bidi and invisible format
  characters, which a terminal or a reader would obey instead of show.

Run it from the repository:  ``python benchmarks/fuzz_cli.py --cases 5000 --seed 1``.
Exit status: 1 when any case raised, else 0 (raw characters are counted, not failed on: ``--strict`` fails on them too).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RUNS = REPO / "sample_runs"

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
"""Characters that must never reach an output raw (``\\r`` included: it rewrites the line on a terminal)."""

INSERTS = [
    "\x1b]2;pwned\x1b\\",  # OSC title
    "\x1b]52;c;cHduZWQ=\x07",  # OSC 52 clipboard write
    "\x1b[2J\x1b[H",  # clear screen
    "\x9b31m",  # C1 CSI
    "\u202eevil\u202c",  # right-to-left override
    "\u2066x\u2069",
    "\u061c\ufeff\u2060\u200b",
    "[link=https://evil.example]x[/link]",
    "[/x]",
    "[@click=app.quit]q[/]",
    "[bold red",
    "\r\x07\x08\x00",
    "'\"`${}%s%n\\",
]
NUMBERS = ["1e999", "-1e999", "NaN", ".nan", "inf", "-.inf", "1" + "0" * 400, "9" * 5000, "0x" + "f" * 4000, "-0", "1e-400", "9223372036854775808"]
WRONG_TYPES = ["[]", "{}", "[1, [2, [3]]]", "{a: {b: c}}", "null", "true", '"text"', "- x\n- y", "!!binary aGk="]


@dataclass
class Tally:
    """Counts of a fuzz run."""

    cases: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    exceptions: list[dict[str, str]] = field(default_factory=list)
    raw_outputs: Counter[str] = field(default_factory=Counter)
    raw_chars: Counter[str] = field(default_factory=Counter)
    raw_examples: list[dict[str, str]] = field(default_factory=list)


class CaseTimeout(Exception):
    """One command ran past the per-command time limit."""


def mutators(rng: random.Random) -> list[Callable[[bytes], bytes]]:
    """The byte-level mutations; each takes a file's bytes and returns new bytes."""

    def flip(data: bytes) -> bytes:
        if not data:
            return b"\xff"
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        return bytes(out)

    def truncate(data: bytes) -> bytes:
        return data[: rng.randrange(len(data) + 1)] if data else data

    def insert(data: bytes) -> bytes:
        at = _cut(rng, data)
        return data[:at] + rng.choice(INSERTS).encode("utf-8", "surrogatepass") + data[at:]

    def number(data: bytes) -> bytes:
        spots = [m.span() for m in re.finditer(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE]-?\d+)?(?![\w.])", data[:200_000])]
        if not spots:
            return data + b"\nx: " + rng.choice(NUMBERS).encode()
        a, b = rng.choice(spots)
        return data[:a] + rng.choice(NUMBERS).encode() + data[b:]

    def nest(data: bytes) -> bytes:
        depth = rng.choice([65, 1000, 5000, 100_000])
        deep = rng.choice([b"[" * depth + b"]" * depth, b"{\"a\": " * depth + b"1" + b"}" * depth])
        at = _cut(rng, data)
        return data[:at] + deep + data[at:]

    def wrong_type(data: bytes) -> bytes:
        spots = [m.span(1) for m in re.finditer(rb"(?m)^\s*[\w\"'.-]+\s*[:=]\s*(\S[^\n]*)$", data[:200_000])]
        if not spots:
            return rng.choice(WRONG_TYPES).encode() + b"\n"
        a, b = rng.choice(spots)
        return data[:a] + rng.choice(WRONG_TYPES).encode() + data[b:]

    return [flip, truncate, insert, number, nest, wrong_type]


def _cut(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1) if data else 0


def hostile_name(rng: random.Random, name: str) -> str:
    """``name`` with an escape, markup or bidi insert (no ``/`` and no NUL, which no file name can hold)."""
    insert = rng.choice(INSERTS).replace("/", "_").replace("\x00", "")
    return (insert + name) if rng.random() < 0.5 else (name + insert)


COMMANDS: list[tuple[str, list[str]]] = [
    ("ls", ["ls", "{root}"]),
    ("ls-json", ["ls", "{root}", "--format", "json"]),
    ("ls-csv", ["ls", "{root}", "--format", "csv"]),
    ("show", ["show", "run-023", "--root", "{root}"]),
    ("show-json", ["show", "run-023", "--root", "{root}", "--format", "json"]),
    ("diff", ["diff", "run-022", "run-023", "--root", "{root}"]),
    ("diff-json", ["diff", "run-022", "run-023", "--root", "{root}", "--format", "json"]),
    ("explain", ["explain", "run-022", "run-023", "--root", "{root}"]),
    ("sweep", ["sweep", "sweep-07", "--root", "{root}"]),
    ("ab", ["ab", "checkout-address-validation", "--root", "{root}"]),
    ("ab-md", ["ab", "checkout-address-validation", "--root", "{root}", "--format", "markdown"]),
    ("audit", ["audit", "{root}"]),
]


def run_command(argv: list[str], seconds: float) -> tuple[str, str, BaseException | None]:
    """Run ``runsift`` in-process; (stdout, stderr, the exception that escaped main, if any)."""
    from runsift.tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    escaped: BaseException | None = None

    def alarm(signum: int, frame: object) -> None:
        raise CaseTimeout(f"over {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main([*argv, "--no-cache", "-q"])
    except SystemExit:
        pass
    except BaseException as exc:
        escaped = exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return out.getvalue(), err.getvalue(), escaped


def fuzz(cases: int, seed: int, seconds: float = 20.0, budget: float | None = None, log: Callable[[str], None] | None = None) -> Tally:
    """Run ``cases`` cases (or until ``budget`` seconds passed) against a private copy of sample_runs."""
    rng = random.Random(seed)
    tally = Tally()
    muts = mutators(rng)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="runsift-fuzz-") as tmp:
        root = Path(tmp) / "runs"
        shutil.copytree(SAMPLE_RUNS, root)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        for case in range(cases):
            if budget is not None and time.monotonic() - started > budget:
                break
            saved: dict[Path, bytes] = {}
            renamed: list[tuple[Path, Path]] = []
            what: list[str] = []
            try:
                for _ in range(rng.randint(1, 3)):
                    target = rng.choice(files)
                    if rng.random() < 0.12:
                        victim = target if rng.random() < 0.7 else target.parent
                        new = victim.with_name(hostile_name(rng, victim.name))
                        if victim.exists() and not new.exists() and not any(victim == r[1] or victim in r[1].parents for r in renamed):
                            victim.rename(new)
                            renamed.append((victim, new))
                            what.append(f"rename {victim.relative_to(root)}")
                        continue
                    if not target.exists():
                        continue
                    data = target.read_bytes()
                    saved.setdefault(target, data)
                    mutate = rng.choice(muts)
                    target.write_bytes(mutate(data))
                    what.append(f"{mutate.__name__} {target.relative_to(root)}")
                name, template = rng.choice(COMMANDS)
                argv = [a.replace("{root}", str(root)) for a in template]
                out, err, escaped = run_command(argv, seconds)
                tally.cases += 1
                tally.commands[name] += 1
                if escaped is not None:
                    tally.exceptions.append(
                        {
                            "case": str(case),
                            "command": name,
                            "mutations": "; ".join(what),
                            "error": f"{type(escaped).__name__}: {escaped}"[:300],
                            "where": "".join(traceback.format_tb(escaped.__traceback__)[-2:])[-800:],
                        }
                    )
                    if log:
                        log(f"case {case}: {name}: {type(escaped).__name__}: {str(escaped)[:120]} ({'; '.join(what)})")
                raw = RAW.findall(out + err)
                if raw:
                    tally.raw_outputs[name] += 1
                    tally.raw_chars.update(f"U+{ord(c):04X}" for c in raw)
                    if len(tally.raw_examples) < 20:
                        tally.raw_examples.append({"command": name, "mutations": "; ".join(what), "chars": " ".join(sorted({f"U+{ord(c):04X}" for c in raw}))})
            finally:
                for old, new in reversed(renamed):
                    new.rename(old)
                for path, data in saved.items():
                    path.write_bytes(data)
    return tally


def summary(tally: Tally, seed: int, elapsed: float) -> dict[str, object]:
    """The figures as a JSON-ready mapping."""
    return {
        "seed": seed,
        "cases": tally.cases,
        "seconds": round(elapsed, 1),
        "commands": dict(sorted(tally.commands.items())),
        "uncaught_exceptions": len(tally.exceptions),
        "exception_kinds": dict(Counter(e["error"].split(":")[0] for e in tally.exceptions)),
        "outputs_with_raw_characters": sum(tally.raw_outputs.values()),
        "raw_by_command": dict(sorted(tally.raw_outputs.items())),
        "raw_characters": dict(tally.raw_chars.most_common()),
        "exceptions": tally.exceptions[:20],
        "raw_examples": tally.raw_examples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one command may take before it counts as an exception")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--strict", action="store_true", help="also exit 1 when any output held raw control characters")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    os.environ.setdefault("NO_COLOR", "1")
    started = time.monotonic()
    tally = fuzz(args.cases, args.seed, args.timeout, args.budget, log=lambda line: print(line, file=sys.stderr, flush=True))
    figures = summary(tally, args.seed, time.monotonic() - started)
    text = json.dumps(figures, indent=2, ensure_ascii=True)
    if args.out:
        args.out.write_text(text + "\n")
    short = {k: v for k, v in figures.items() if k not in ("exceptions", "raw_examples")}
    print(json.dumps(short, indent=2, ensure_ascii=True))
    failed = bool(tally.exceptions) or (args.strict and figures["outputs_with_raw_characters"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
