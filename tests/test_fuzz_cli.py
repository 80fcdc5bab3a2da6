"""A bounded run of the mutation fuzzer (benchmarks/fuzz_cli.py): no mutation of sample_runs may make a command raise."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fuzzer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("fuzz_cli", REPO / "benchmarks" / "fuzz_cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_cli"] = module
    spec.loader.exec_module(module)
    return module


def test_fuzzed_sample_runs_never_make_a_command_raise() -> None:
    fuzz = _fuzzer()
    tally = fuzz.fuzz(cases=400, seed=13, seconds=20.0, budget=40.0)
    assert tally.cases >= 50, "the fuzzer must actually run cases"
    assert not tally.exceptions, "\n\n".join(f"{e['command']} after {e['mutations']}: {e['error']}\n{e['where']}" for e in tally.exceptions[:5])


def test_the_fuzzer_sees_raw_characters_and_exceptions() -> None:
    """The detector itself: a raw escape is counted, a printable one is not."""
    fuzz = _fuzzer()
    assert fuzz.RAW.findall("ok \\x1b \\u202e\n\t") == []
    assert len(fuzz.RAW.findall("\x1b]2;x\x07 \u202e \x9b \ufeff")) == 5
