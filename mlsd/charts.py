"""Line charts drawn with characters, for curves in the terminal (precision-recall,
cost against threshold, drift by day). Rich styles colour the series; NO_COLOR and
pipes get the plain characters, each series with its own mark."""

from __future__ import annotations

import math

from rich.text import Text

from mlsd.results import Chart

MARKS = ("●", "+", "x", "o", "*", "#")
STYLES = ("cyan", "magenta", "yellow", "green", "red", "blue")


def _finite_points(xs, ys):
    return [(float(x), float(y)) for x, y in zip(xs, ys)
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]


def render_chart(chart: Chart, width: int = 60, height: int = 12) -> Text:
    """The chart as styled text: y axis on the left, x range below, a legend line."""
    series = [(s.name, _finite_points(s.x, s.y)) for s in chart.series]
    points = [p for _, pts in series for p in pts]
    out = Text()
    out.append(chart.title + "\n", style="bold")
    if not points:
        out.append("(no finite points)\n", style="dim")
        return out
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    if x1 == x0:
        x1 = x0 + 1.0
    if y1 == y0:
        y1 = y0 + 1.0
    grid: list[list[tuple[str, str] | None]] = [[None] * width for _ in range(height)]

    def cell(x, y):
        col = round((x - x0) / (x1 - x0) * (width - 1))
        row = height - 1 - round((y - y0) / (y1 - y0) * (height - 1))
        return row, col

    for k, (_, pts) in enumerate(series):
        mark = (MARKS[k % len(MARKS)], STYLES[k % len(STYLES)])
        for (xa, ya), (xb, yb) in zip(pts, pts[1:] or pts):
            ra, ca = cell(xa, ya)
            rb, cb = cell(xb, yb)
            steps = max(abs(rb - ra), abs(cb - ca), 1)
            for i in range(steps + 1):  # join consecutive points with a straight run of marks
                grid[round(ra + (rb - ra) * i / steps)][round(ca + (cb - ca) * i / steps)] = mark
    label_width = max(len(_fmt(y0)), len(_fmt(y1)))
    for r, line in enumerate(grid):
        y_label = _fmt(y1) if r == 0 else _fmt(y0) if r == height - 1 else ""
        out.append(f"{y_label:>{label_width}} │", style="dim")
        for c in line:
            out.append(c[0], style=c[1]) if c else out.append(" ")
        out.append("\n")
    out.append(" " * label_width + " └" + "─" * width + "\n", style="dim")
    span = f"{_fmt(x0)}{chart.x_label:^{max(width - len(_fmt(x0)) - len(_fmt(x1)), 1)}}{_fmt(x1)}"
    out.append(" " * (label_width + 2) + span + "\n", style="dim")
    out.append(" " * (label_width + 2) + f"y: {chart.y_label}   ")
    for k, (name, _) in enumerate(series):
        out.append(f"{MARKS[k % len(MARKS)]} {name}  ", style=STYLES[k % len(STYLES)])
    out.append("\n")
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"
