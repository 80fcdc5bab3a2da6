"""Per-step metric curves drawn in Unicode Braille (2×4 dots per character cell).

:func:`braille_chart` is a pure function from series to lines of ``rich.text.Text``;
:class:`Chart` is a widget that draws it at its current size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from runsift.core.fmt import format_number
from textual.widget import Widget

from ..safe import literal

Point = tuple[float, float]
Series = tuple[str, Sequence[Point]]

DEFAULT_STYLES: tuple[str, ...] = ("cyan", "magenta", "yellow", "green", "blue", "red")
NO_DATA = "no per-step data"
AXIS_STYLE = "dim"
LABEL_MAX = 10
"""The y-axis label column is never wider than this."""
LEGEND_MARK = "⣿"

_BRAILLE = 0x2800
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""Bit of the dot at [row][column] of a Braille cell (rows 0-3, columns 0-1)."""


def _finite_points(points: Sequence[Any]) -> list[Point]:
    """(step, value) pairs as floats, sorted by step; NaN, inf and non-numbers left out."""
    out: list[Point] = []
    for point in points:
        try:
            x, y = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            out.append((x, y))
    out.sort(key=lambda p: p[0])
    return out


def _step_label(x: float) -> str:
    return format_number(int(x)) if x.is_integer() else format_number(x)


def _reduce(pixels: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep at most first, lowest, highest and last pixel of each run of one pixel column.

    A line through those four covers the column's whole range, so long series cost
    O(points) once and then O(width) to draw.
    """
    out: list[tuple[int, int]] = []
    i, n = 0, len(pixels)
    while i < n:
        px = pixels[i][0]
        j = i
        low = high = pixels[i][1]
        while j + 1 < n and pixels[j + 1][0] == px:
            j += 1
            low = min(low, pixels[j][1])
            high = max(high, pixels[j][1])
        first, last = pixels[i][1], pixels[j][1]
        for py in (first, low, high, last):
            if not out or out[-1] != (px, py):
                out.append((px, py))
        i = j + 1
    return out


def _line(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Pixels of a straight line from (x0, y0) to (x1, y1), both ends included (Bresenham)."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    out = [(x0, y0)]
    while (x0, y0) != (x1, y1):
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy
        out.append((x0, y0))
    return out


def braille_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    width: int,
    height: int,
    styles: Sequence[str] = DEFAULT_STYLES,
) -> list[Text]:
    """Draw (step, value) series on shared axes: ``height`` lines of exactly ``width`` cells.

    Layout, top to bottom: plot rows (max value labelled on the first, min on the last),
    an x-axis line with the first and last step, a legend of the series names. A
    one-row chart keeps only the plot, a two-row one drops the legend. Points with a
    NaN or infinite step or value are skipped (the curve joins its neighbours). Where
    dots of several series share a cell, the cell takes the style of the last series
    drawn. With no finite point at all, the result is one line: ``no per-step data``.
    """
    width, height = max(int(width), 1), max(int(height), 1)
    styles = tuple(styles) or DEFAULT_STYLES
    cleaned = [(str(name), _finite_points(points)) for name, points in series]
    everything = [p for _, points in cleaned for p in points]
    if not everything:
        empty = Text(NO_DATA, style=AXIS_STYLE, no_wrap=True)
        empty.truncate(width, overflow="ellipsis")
        return [empty]

    has_axis = height >= 2
    has_legend = height >= 3
    plot_h = height - has_axis - has_legend

    xs = [p[0] for p in everything]
    ys = [p[1] for p in everything]
    x_first, x_last = min(xs), max(xs)
    y_min, y_max = min(ys), max(ys)
    if y_min == y_max:  # a flat series: a line through the middle, labels a little around it
        pad = abs(y_min) * 0.1 or 1.0
        y_min, y_max = y_min - pad, y_max + pad
    top_label, bottom_label = format_number(y_max), format_number(y_min)
    label_w = min(max(cell_len(top_label), cell_len(bottom_label)), LABEL_MAX)
    if width - label_w - 1 < 2:  # too narrow for labels: plot only
        label_w = 0
    axis_w = label_w + 1 if label_w else 0
    plot_w = width - axis_w

    # -- dots ----------------------------------------------------------------------------
    pw, ph = plot_w * 2, plot_h * 4
    x_span, y_span = x_last - x_first, y_max - y_min
    bits = [[0] * plot_w for _ in range(plot_h)]
    owner = [[-1] * plot_w for _ in range(plot_h)]
    for s, (_, points) in enumerate(cleaned):
        if not points:
            continue
        pixels = [
            (
                round((x - x_first) / x_span * (pw - 1)) if x_span > 0 else pw // 2,
                round((y_max - y) / y_span * (ph - 1)),
            )
            for x, y in points
        ]
        path = _reduce(pixels)
        drawn = [path[0]] if len(path) == 1 else []
        for (x0, y0), (x1, y1) in pairwise(path):
            drawn.extend(_line(x0, y0, x1, y1))
        for px, py in drawn:
            row, col = py // 4, px // 2
            bits[row][col] |= _DOT[py % 4][px % 2]
            owner[row][col] = s

    # -- plot rows -------------------------------------------------------------------------
    lines: list[Text] = []
    for row in range(plot_h):
        line = Text(no_wrap=True)
        if label_w:
            label = top_label if row == 0 else bottom_label if row == plot_h - 1 else ""
            label = label[:label_w].rjust(label_w)
            line.append(label, AXIS_STYLE)
            line.append("┤" if label.strip() else "│", AXIS_STYLE)
        run_style: str | None = None
        run: list[str] = []
        for col in range(plot_w):
            cell_bits = bits[row][col]
            style = styles[owner[row][col] % len(styles)] if cell_bits else ""
            if style != run_style and run:
                line.append("".join(run), run_style or None)
                run = []
            run_style = style
            run.append(chr(_BRAILLE + cell_bits) if cell_bits else " ")
        if run:
            line.append("".join(run), run_style or None)
        lines.append(line)

    # -- x axis ----------------------------------------------------------------------------
    if has_axis:
        first = _step_label(x_first)
        last = _step_label(x_last) if x_last != x_first else ""
        inner = plot_w
        if last and len(first) + len(last) + 3 <= inner:
            body = first + " " + "─" * (inner - len(first) - len(last) - 2) + " " + last
        elif len(first) + 1 <= inner:
            body = first + " " + "─" * (inner - len(first) - 1)
        else:
            body = "─" * inner
        axis = Text((" " * label_w + "└" if label_w else "") + body, style=AXIS_STYLE, no_wrap=True)
        lines.append(axis)

    # -- legend ----------------------------------------------------------------------------
    if has_legend:
        legend = Text(no_wrap=True)
        legend.append(" " * axis_w)
        for s, (name, points) in enumerate(cleaned):
            if s:
                legend.append("  ")
            style = styles[s % len(styles)]
            legend.append(LEGEND_MARK + " ", style)
            legend.append_text(literal(name, style))
            if not points:
                legend.append(" (no data)", AXIS_STYLE)
        lines.append(legend)

    for line in lines:
        line.truncate(width, overflow="ellipsis", pad=True)
    return lines


class Chart(Widget):
    """Per-step curves of one or more series, drawn with :func:`braille_chart` at the widget's size."""

    DEFAULT_CSS = """
    Chart {
        height: 12;
    }
    """

    def __init__(
        self,
        series: Sequence[tuple[str, Sequence[tuple[float, float]]]] = (),
        *,
        styles: Sequence[str] = DEFAULT_STYLES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._series: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()
        self._styles = tuple(styles)
        self._drawn: tuple[tuple[int, int], list[Text]] | None = None
        self.set_series(series)

    @property
    def series(self) -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
        return self._series

    def set_series(self, series: Sequence[tuple[str, Sequence[tuple[float, float]]]]) -> None:
        """Replace the curves (``[]`` shows ``no per-step data``)."""
        self._series = tuple((name, tuple(points)) for name, points in series)
        self._drawn = None
        self.refresh()

    def lines(self) -> list[Text]:
        """The chart at the widget's current size (recomputed when the size or the series change)."""
        size = (self.size.width, self.size.height)
        if self._drawn is None or self._drawn[0] != size:
            self._drawn = (size, braille_chart(self._series, size[0], size[1], self._styles))
        return self._drawn[1]

    def render(self) -> RenderableType:
        if not self.size.width or not self.size.height:
            return Text()
        return Text("\n", no_wrap=True).join(self.lines())
