"""Packaging guarantees: core stays terminal-free, every subpackage is installed."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys, runsift.core.catalog, runsift.core.diff, runsift.core.contract, runsift.core.loader;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'));"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"core pulled in: {out.stdout} {out.stderr}"


def test_subpackages_are_installed_under_runsift_only() -> None:
    import json
    import sysconfig
    from importlib.metadata import distributions

    import pytest

    import runsift.core.readers
    import runsift.tui

    assert runsift.core.readers.__name__ == "runsift.core.readers"
    site = sysconfig.get_paths()["purelib"]
    dist = next((d for d in distributions(path=[site]) if d.metadata["Name"] == "runsift"), None)
    assert dist is not None, f"runsift is not installed in {site}"
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        pytest.skip("editable install: file list is the source tree; CI checks the wheel")
    installed = [str(f) for f in dist.files or [] if str(f).endswith(".py")]
    top_level = {f.split("/")[0] for f in installed if not f.startswith(("..", "__editable__"))}
    assert top_level <= {"runsift"}, f"stray top-level modules installed: {top_level}"


def test_every_source_module_is_importable_from_the_install() -> None:
    """An unlisted subpackage drops out of the wheel silently; CI runs this against the wheel."""
    import importlib
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    names = []
    for folder, package in (("core", "runsift.core"), ("tui", "runsift.tui")):
        for path in sorted((repo / folder).rglob("*.py")):
            parts = path.relative_to(repo / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join((package, *parts)))
    assert len(names) > 20
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            missing.append(f"{name}: {exc}")
    assert not missing, "not installed: " + "; ".join(missing)
