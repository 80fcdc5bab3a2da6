"""Widgets of the runsift app: a virtual run table and a Braille chart of per-step curves."""

from __future__ import annotations

from .chart import Chart, ChartGrid, braille_chart
from .run_table import Column, RunTable

__all__ = ["Chart", "ChartGrid", "Column", "RunTable", "braille_chart"]
