"""Per-step metric curves drawn in Unicode Braille (2×4 dots per character cell).

:func:`braille_chart` is a pure function from series to lines of ``rich.text.Text``;
:class:`Chart` is a widget that draws it at its current size, and :class:`ChartGrid` draws
several metrics at once in a grid that fits its size, zoomed to the last steps when asked.

Series are told apart without colour too: each has a line pattern (solid, dotted, dashed)
that its legend shows. Ranges are computed on values divided by their largest magnitude, so
±1e308 cannot overflow, and a drawing error becomes a line of text in the chart.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from runsift.core.fmt import format_number

from ..safe import literal

Point = tuple[float, float]
Series = tuple[str, Sequence[Point]]

DEFAULT_STYLES: tuple[str, ...] = ("cyan", "magenta", "yellow", "green", "blue", "red")
NO_DATA = "no per-step data"
AXIS_STYLE = "dim"
LABEL_MAX = 11
"""The y-axis label column is never wider than this."""
LEGEND_MARK = "⣿"
"""Legend glyph of a one-series chart (no pattern to tell apart)."""
PATTERNS: tuple[str, ...] = ("solid", "dotted", "dashed")
"""Line pattern of series 0, 1, 2 ... (cycling): A and B differ without colour."""
NO_COLOR_STYLES: tuple[str, ...] = ("bold", "", "italic")
"""Styles under NO_COLOR: the patterns tell series apart, bold keeps A in front."""
ZOOMS: tuple[float, ...] = (1.0, 0.5, 0.1)
"""Fractions of the step range shown: everything, the last half, the last tenth."""

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


def _pixel(offset: float, span: float, pixels: int) -> int:
    """Pixel of ``offset`` along ``span`` (both normalised), clamped to [0, pixels - 1]."""
    at = round(offset / span * (pixels - 1))
    return max(0, min(pixels - 1, at))


def _step_label(x: float) -> str:
    return str(format_number(int(x)) if x.is_integer() else format_number(x))


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


def _keep(pattern: str, px: int, py: int) -> bool:
    """Whether a line of ``pattern`` draws pixel (px, py)."""
    if pattern == "dotted":
        return (px + py) % 3 == 0
    if pattern == "dashed":
        return (px + py) % 4 < 2
    return True


def pattern_sample(pattern: str, cells: int = 4) -> str:
    """A short horizontal stretch of a line drawn in ``pattern``, for the legend."""
    out = []
    for col in range(cells):
        bits = 0
        for half in (0, 1):
            if _keep(pattern, col * 2 + half, 2):
                bits |= _DOT[2][half]
        out.append(chr(_BRAILLE + bits))
    return "".join(out)


def _normalise(values: Sequence[float]) -> tuple[float, float, float]:
    """(scale, low, high): ``low``/``high`` are the extremes divided by ``scale``, the largest magnitude.

    Dividing first keeps every later difference within [-2, 2]: a span of ±1e308 does not overflow.
    """
    low, high = min(values), max(values)
    scale = max(abs(low), abs(high)) or 1.0
    low_n, high_n = low / scale, high / scale
    if not high_n > low_n:  # a flat series: a line through the middle, labels a little around it
        pad = abs(low_n) * 0.1 or 1.0
        low_n, high_n = low_n - pad, high_n + pad
    return scale, low_n, high_n


def _label(value_n: float, scale: float) -> str:
    """A normalised value shown in its own units, clamped to the finite floats."""
    value = value_n * scale
    if not math.isfinite(value):
        value = math.copysign(sys.float_info.max, value_n)
    return str(format_number(value))


def zoom_window(series: Sequence[tuple[str, Sequence[Any]]], fraction: float) -> float | None:
    """The first step shown when only the last ``fraction`` of the steps is (None: all of them)."""
    if fraction >= 1.0:
        return None
    xs = [p[0] for _, points in series for p in _finite_points(points)]
    if not xs:
        return None
    first, last = min(xs), max(xs)
    return last - (last / 2 - first / 2) * 2 * fraction  # halves first: no overflow near ±1e308


def braille_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    width: int,
    height: int,
    styles: Sequence[str] = DEFAULT_STYLES,
    *,
    patterns: Sequence[str] = PATTERNS,
    x_from: float | None = None,
    legend: bool = True,
) -> list[Text]:
    """Draw (step, value) series on shared axes: ``height`` lines of exactly ``width`` cells.

    Layout, top to bottom: plot rows (max value labelled on the first, min on the last),
    an x-axis line with the first and last step, a legend of the series names. A
    one-row chart keeps only the plot, a two-row one drops the legend. Points with a
    NaN or infinite step or value are skipped (the curve joins its neighbours). Where
    dots of several series share a cell, the cell takes the style of the last series
    drawn. With no finite point at all, the result is one line: ``no per-step data``.
    Series ``i`` is drawn in ``patterns[i]`` (cycling), which its legend shows. With
    ``x_from``, only steps from there on are drawn and the value axis fits them.
    """
    width, height = max(int(width), 1), max(int(height), 1)
    styles = tuple(styles) or DEFAULT_STYLES
    patterns = tuple(patterns) or ("solid",)
    cleaned = [(str(name), _finite_points(points)) for name, points in series]
    if x_from is not None:
        cleaned = [(name, [p for p in points if p[0] >= x_from]) for name, points in cleaned]
    everything = [p for _, points in cleaned for p in points]
    if not everything:
        empty = Text(NO_DATA, style=AXIS_STYLE, no_wrap=True)
        empty.truncate(width, overflow="ellipsis")
        return [empty]

    has_axis = height >= 2
    has_legend = legend and height >= 3
    plot_h = height - has_axis - has_legend

    xs = [p[0] for p in everything]
    x_first, x_last = min(xs), max(xs)
    x_scale = max(abs(x_first), abs(x_last)) or 1.0
    x_lo, x_span = x_first / x_scale, x_last / x_scale - x_first / x_scale
    y_scale, y_lo, y_hi = _normalise([p[1] for p in everything])
    y_span = y_hi - y_lo
    top_label, bottom_label = _label(y_hi, y_scale), _label(y_lo, y_scale)
    label_w = min(max(cell_len(top_label), cell_len(bottom_label)), LABEL_MAX)
    if width - label_w - 1 < 2:  # too narrow for labels: plot only
        label_w = 0
    axis_w = label_w + 1 if label_w else 0
    plot_w = width - axis_w

    # -- dots ----------------------------------------------------------------------------
    pw, ph = plot_w * 2, plot_h * 4
    bits = [[0] * plot_w for _ in range(plot_h)]
    owner = [[-1] * plot_w for _ in range(plot_h)]
    for s, (_, points) in enumerate(cleaned):
        if not points:
            continue
        pixels = [
            (
                _pixel(x / x_scale - x_lo, x_span, pw) if x_span > 0 else pw // 2,
                ph - 1 - _pixel(y / y_scale - y_lo, y_span, ph),
            )
            for x, y in points
        ]
        path = _reduce(pixels)
        drawn = [path[0]] if len(path) == 1 else []
        for (x0, y0), (x1, y1) in pairwise(path):
            drawn.extend(_line(x0, y0, x1, y1))
        pattern = patterns[s % len(patterns)]
        if len(drawn) > 1 and pattern != "solid":
            drawn = [(px, py) for px, py in drawn if _keep(pattern, px, py)] or drawn[:1]
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
        key_line = Text(no_wrap=True)
        key_line.append(" " * axis_w)
        for s, (name, points) in enumerate(cleaned):
            if s:
                key_line.append("  ")
            style = styles[s % len(styles)]
            mark = pattern_sample(patterns[s % len(patterns)]) if len(cleaned) > 1 else LEGEND_MARK
            key_line.append(mark + " ", style)
            key_line.append_text(literal(name, style))
            if not points:
                key_line.append(" (no data)", AXIS_STYLE)
        lines.append(key_line)

    for line in lines:
        line.truncate(width, overflow="ellipsis", pad=True)
    return lines


def safe_chart(series: Sequence[Series], width: int, height: int, styles: Sequence[str], **options: Any) -> list[Text]:
    """:func:`braille_chart`, with any drawing error turned into a line of the chart instead of an exception."""
    try:
        return braille_chart(series, width, height, styles, **options)
    except Exception as exc:
        line = literal(f"cannot draw this chart: {type(exc).__name__}: {exc}", "yellow")
        line.truncate(max(width, 1), overflow="ellipsis")
        return [line]


def _styles_for(widget: Widget, styles: tuple[str, ...]) -> tuple[str, ...]:
    """The widget's styles, or attributes only under NO_COLOR (a grey on grey curve is not seen)."""
    try:
        no_color = bool(widget.app.no_color)
    except Exception:
        no_color = False
    return NO_COLOR_STYLES if no_color else styles


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
            self._drawn = (size, safe_chart(self._series, size[0], size[1], _styles_for(self, self._styles)))
        return self._drawn[1]

    def render(self) -> RenderableType:
        if not self.size.width or not self.size.height:
            return Text()
        return Text("\n", no_wrap=True).join(self.lines())


Panel = tuple[str, Sequence[Series]]
"""One chart of a grid: its title (a metric name) and its series (one per run)."""


class ChartGrid(Widget):
    """Several metrics at once: as many charts as fit (at least :data:`MIN_W` × :data:`MIN_H` cells each).

    ``next_page`` shows the next charts when not all fit; ``cycle_zoom`` shows the last half, the
    last tenth, then all steps again, each time fitting the value axis to what is shown.
    """

    DEFAULT_CSS = """
    ChartGrid {
        height: 1fr;
        min-height: 8;
    }
    """
    MIN_W = 36
    MIN_H = 8

    def __init__(self, *, styles: Sequence[str] = DEFAULT_STYLES, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._panels: tuple[Panel, ...] = ()
        self._styles = tuple(styles)
        self.page = 0
        self.zoom = 0
        """Index into :data:`ZOOMS`."""
        self._drawn: tuple[tuple[int, int, int, int], list[Text]] | None = None

    @property
    def panels(self) -> tuple[Panel, ...]:
        return self._panels

    def set_panels(self, panels: Sequence[Panel]) -> None:
        """Replace the charts (a live run's new steps): page and zoom stay."""
        self._panels = tuple((title, tuple((name, tuple(points)) for name, points in series)) for title, series in panels)
        self._drawn = None
        self.refresh()

    def grid_shape(self) -> tuple[int, int]:
        """(columns, rows) of charts that fit the current size."""
        cols = max(1, self.size.width // self.MIN_W)
        rows = max(1, self.size.height // self.MIN_H)
        count = max(1, len(self._panels))
        cols = min(cols, count)
        rows = min(rows, -(-count // cols))
        return cols, rows

    @property
    def per_page(self) -> int:
        cols, rows = self.grid_shape()
        return cols * rows

    def shown(self) -> list[Panel]:
        """The charts on the current page."""
        if not self._panels:
            return []
        per = self.per_page
        start = (self.page * per) % len(self._panels)
        return [self._panels[(start + i) % len(self._panels)] for i in range(min(per, len(self._panels)))]

    def next_page(self) -> None:
        """Show the next charts (wrapping around)."""
        self.page += 1
        self._drawn = None
        self.refresh()

    def cycle_zoom(self) -> float:
        """Zoom to the next fraction of the steps; the fraction now shown."""
        self.zoom = (self.zoom + 1) % len(ZOOMS)
        self._drawn = None
        self.refresh()
        return ZOOMS[self.zoom]

    def lines(self) -> list[Text]:
        """The grid at the widget's current size."""
        key = (self.size.width, self.size.height, self.page, self.zoom)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, self._draw(self.size.width, self.size.height))
        return self._drawn[1]

    def _draw(self, width: int, height: int) -> list[Text]:
        shown = self.shown()
        if not shown:
            return [Text(NO_DATA, style=AXIS_STYLE)]
        cols, rows = self.grid_shape()
        cell_w = max(1, (width - (cols - 1)) // cols)
        cell_h = max(2, height // rows)
        styles = _styles_for(self, self._styles)
        fraction = ZOOMS[self.zoom]
        out: list[Text] = []
        for r in range(rows):
            cells = []
            for c in range(cols):
                i = r * cols + c
                if i >= len(shown):
                    cells.append([Text(" " * cell_w) for _ in range(cell_h)])
                    continue
                title, series = shown[i]
                head = literal(title, "bold")
                if fraction < 1.0:
                    head.append(f"  last {fraction:.0%} of steps", AXIS_STYLE)
                head.truncate(cell_w, overflow="ellipsis", pad=True)
                body = safe_chart(series, cell_w, cell_h - 1, styles, x_from=zoom_window(series, fraction), legend=len(series) > 1)
                for line in body:
                    line.truncate(cell_w, overflow="ellipsis", pad=True)
                body += [Text(" " * cell_w) for _ in range(cell_h - 1 - len(body))]
                cells.append([head, *body])
            for line_no in range(cell_h):
                line = Text(no_wrap=True)
                for c, cell in enumerate(cells):
                    if c:
                        line.append(" ")
                    line.append_text(cell[line_no])
                out.append(line)
        return out

    def render(self) -> RenderableType:
        if not self.size.width or not self.size.height:
            return Text()
        return Text("\n", no_wrap=True).join(self.lines())
