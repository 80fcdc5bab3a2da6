"""Sweeps and A/B replays as reports, built from their JSON documents.

Rendering from the documented JSON (not from internal dataclasses) keeps the
terminal, Markdown and JSON outputs saying exactly the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from runsift.core.fmt import format_measured, format_number, format_value

from .markdown import cell, code
from .safe import literal


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items()) or "—"


def _pct(x: Any) -> str:
    """A share as a signed percentage; an unbounded interval end (JSON "Infinity") as +inf."""
    if x in ("Infinity", "-Infinity"):
        return "+inf" if x == "Infinity" else "-inf"
    return f"{x * 100:+.2f}%" if isinstance(x, (int, float)) and not isinstance(x, bool) else "—"


# -- sweeps ------------------------------------------------------------------------------


def board_status(row: Mapping[str, Any]) -> str:
    """A leaderboard row's status as lists show it: ``~finished`` when runsift inferred it."""
    return ("~" if row.get("status_source") == "guessed" else "") + str(row["status"])


def sweep_lines(doc: Mapping[str, Any]) -> list[str]:
    """Plain sentences about the board: metric, winner, noise, verification."""
    lines = [f"metric {doc['metric']} ({'higher' if doc['goal'] == 'max' else 'lower'} is better; goal from {doc.get('goal_source', '?')})"]
    sep = doc.get("separable")
    if sep:
        lines.append(sep["message"])
    for flag in doc.get("flags", ()):
        if not (sep and flag in sep["message"]):
            lines.append(flag)
    if doc.get("mismatches"):
        lines.append(f"saved leaderboard.csv does NOT match the runs: {len(doc['mismatches'])} mismatch(es)")
    else:
        lines.append("saved leaderboard.csv verified: every row matches the runs' own metrics and order")
    if any(row.get("status_source") == "guessed" for row in doc["leaderboard"]):
        lines.append("~ before a status: guessed from how the run's files end, not recorded")
    return lines


def sweep_renderable(doc: Mapping[str, Any]) -> Group:
    """Leaderboard (only the varying parameters), configurations with mean ± std, mismatches."""
    parts: list[Any] = [literal(doc["sweep"], "bold")]
    parts += [literal(line) for line in sweep_lines(doc)]
    board = Table(box=None, header_style="bold", pad_edge=False, title="leaderboard (recomputed from the runs)", title_justify="left", title_style="bold")
    for col, justify in (("#", "right"), ("run", "left"), (doc["metric"], "right"), ("params", "left"), ("status", "left")):
        board.add_column(literal(col), justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in doc["leaderboard"]:
        board.add_row(str(row["rank"]), literal(row["name"]), literal(format_measured(row["value"]) if row["value"] is not None else "—"), literal(_params(row["params"])), literal(board_status(row)))
    parts += [Text(""), board]
    if any(g["n"] > 1 for g in doc.get("groups", ())):
        groups = Table(box=None, header_style="bold", pad_edge=False, title="configurations (seed replicates pooled)", title_justify="left", title_style="bold")
        for col in ("#", "mean ± std", "n", "params", "runs"):
            groups.add_column(col, overflow="fold")
        for g in doc["groups"]:
            spread = f" ± {format_number(g['std'])}" if g.get("std") is not None else ""
            groups.add_row(str(g["rank"]), f"{format_number(g['mean'])}{spread}" if g["mean"] is not None else "—", str(g["n"]), literal(_params(g["params"])), literal(", ".join(g["names"])))
        parts += [Text(""), groups]
    if doc.get("mismatches"):
        parts += [Text(""), Text("Mismatches", style="bold yellow")]
        parts += [Text("  • ") + literal(f"[{m['kind']}] {m['message']}") for m in doc["mismatches"]]
    return Group(*parts)


def sweep_markdown(doc: Mapping[str, Any]) -> str:
    """The sweep report as Markdown."""
    out = [f"### runsift sweep: {code(doc['sweep'])}", ""] + [f"- {cell(line, 300)}" for line in sweep_lines(doc)] + [""]
    out += [f"| # | run | {cell(doc['metric'])} | params | status |", "|---|---|---|---|---|"]
    for row in doc["leaderboard"]:
        value = format_measured(row["value"]) if row["value"] is not None else "—"
        out.append(f"| {row['rank']} | {code(row['name'])} | {cell(value)} | {cell(_params(row['params']))} | {cell(board_status(row))} |")
    if doc.get("mismatches"):
        out += ["", "**Mismatches:**", ""] + [f"- {code(m['kind'])} {cell(m['message'], 300)}" for m in doc["mismatches"]]
    return "\n".join(out) + "\n"


# -- A/B tests ------------------------------------------------------------------------------


def ab_lines(doc: Mapping[str, Any]) -> list[str]:
    """Plain sentences: lift, p-value, SRM, reproduction, diagnostics."""
    lines = []
    lift = doc.get("lift") or {}
    if lift:
        level = lift.get("ci_level")
        label = f"{level * 100:g}% CI" if isinstance(level, (int, float)) else "CI"
        lines.append(
            f"{doc.get('treatment')} vs {doc.get('control')}: absolute lift {format_number(lift.get('absolute'))}, "
            f"relative lift {_pct(lift.get('relative'))} ({label} {_pct(lift.get('ci_low'))} to {_pct(lift.get('ci_high'))}), "
            f"p = {format_number(doc.get('p_value'))}"
        )
    lines += [str(w) for w in doc.get("warnings", ())]
    srm = doc.get("srm") or {}
    if srm:
        lines.append(srm.get("message") or f"sample ratio check p = {format_number(srm.get('p_value'))}")
    if doc.get("reproduced") is True:
        lines.append("the saved result is reproduced from the logs (to its saved precision)")
    elif doc.get("reproduced") is False:
        lines.append(f"the saved result is NOT reproduced: {len(doc.get('mismatches', []))} figure(s) differ")
    lines += list((doc.get("diagnostics") or {}).get("messages", ()))
    lines += [note for note in doc.get("notes", ()) if note not in lines]
    return lines


def ab_renderable(doc: Mapping[str, Any]) -> Group:
    """Per-variant table, lift, SRM, diagnostics and the saved-vs-recomputed figures."""
    parts: list[Any] = [literal(f"{doc['experiment_id']} · {doc['metric']}", "bold")]
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("variant", "units", "conversions", "rate", "planned"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for name, v in doc["variants"].items():
        planned = f"{v['planned_share']:.0%}" if isinstance(v.get("planned_share"), (int, float)) else "—"
        table.add_row(literal(name), f"{v['units']:,}", f"{v['conversions']:,}", f"{v['rate']:.4%}" if v["rate"] is not None else "—", planned)
    parts += [table, Text("")]
    srm = doc.get("srm") or {}
    for line in ab_lines(doc):
        style = "bold red" if srm.get("flagged") and line == srm.get("message") else ""  # not every line naming a ratio
        parts.append(Text("• ") + literal(line, style))
    if doc.get("mismatches"):
        mm = Table(box=None, header_style="bold", pad_edge=False, title="saved vs recomputed", title_justify="left", title_style="bold")
        for col in ("figure", "saved", "recomputed", ""):
            mm.add_column(col, overflow="fold")
        for m in doc["mismatches"]:
            mm.add_row(literal(m.get("name", "")), literal(format_value(m.get("saved"))), literal(format_value(m.get("recomputed"))), literal(m.get("message", "")))
        parts += [Text(""), mm]
    return Group(*parts)


def ab_markdown(doc: Mapping[str, Any]) -> str:
    """The replay as Markdown."""
    out = [f"### runsift ab: {code(doc['experiment_id'])} · {code(doc['metric'])}", "", "| variant | units | conversions | rate |", "|---|---|---|---|"]
    for name, v in doc["variants"].items():
        rate = "—" if v.get("rate") is None else f"{v['rate']:.4%}"  # a planned variant with no units has no rate
        out.append(f"| {cell(name)} | {v['units']:,} | {v['conversions']:,} | {rate} |")
    out.append("")
    out += [f"- {cell(line, 400)}" for line in ab_lines(doc)]
    if doc.get("mismatches"):
        out += ["", "| figure | saved | recomputed | |", "|---|---|---|---|"]
        out += [f"| {cell(m.get('name', ''))} | {cell(format_value(m.get('saved')))} | {cell(format_value(m.get('recomputed')))} | {cell(m.get('message', ''), 200)} |" for m in doc["mismatches"]]
    return "\n".join(out) + "\n"
