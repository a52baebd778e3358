"""Rich rendering of stage results. The JSON output comes from the same objects
(`StageResult.to_dict`), so the terminal and `--json` never disagree."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from mlsd.charts import render_chart
from mlsd.registry import STAGE_MINUTES
from mlsd.results import Metric, StageResult, Table


def fmt_value(value: float | None, unit: str) -> str:
    """A metric value the way a person reads it: 12.3 ms, $4,210, 0.7543, 3 ."""
    if value is None:
        return ""
    if unit == "ms":
        return f"{value:.3f} ms" if value < 1 else f"{value:.1f} ms"
    if unit == "$":
        return f"${value:,.0f}"
    if unit in ("count", "day"):
        return f"{value:,.0f}"
    if unit == "req/s":
        return f"{value:,.0f}/s"
    if unit == "x":
        return f"{value:.2f}x"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.4f}"


MAX_WORD = 24  # a column is never squeezed below its longest word, up to this many characters


def add_wrapping_columns(table: RichTable, headers: list[str], rows: list[list[str]], justify: list[str]) -> None:
    """Columns that wrap between words instead of cutting cells short ("card_a…"): each
    keeps room for its longest word, and only a longer word is folded. Rows hold plain text."""
    for i, (header, side) in enumerate(zip(headers, justify)):
        words = [w for r in rows for w in Text.from_markup(str(r[i])).plain.split()] + header.split()
        widest = max((len(w) for w in words), default=1)
        table.add_column(header, justify=side, overflow="fold", min_width=min(widest, MAX_WORD))


def metrics_table(metrics: list[Metric]) -> RichTable:
    table = RichTable(show_edge=False, header_style="bold", pad_edge=False)
    rows = []
    for m in metrics:
        direction = "" if m.higher_is_better is None else ("≥ " if m.higher_is_better else "≤ ")
        value = ("> " if m.censored else "") + fmt_value(m.value, m.unit)
        if m.ci_low is not None and m.ci_high is not None:
            value += f" [{fmt_value(m.ci_low, m.unit)}, {fmt_value(m.ci_high, m.unit)}]"
        baseline = fmt_value(m.baseline, m.unit)
        if m.differs_from_baseline is False:
            baseline += " (gap not significant)"
        rows.append([m.label or m.name, value,
                     (direction + fmt_value(m.target, m.unit)) if m.target is not None else "",
                     baseline, fmt_value(m.oracle, m.unit)])
    add_wrapping_columns(table, ["metric", "value", "target", "baseline", "oracle"], rows, ["left"] + ["right"] * 4)
    table.add_column("", justify="left", min_width=1)
    if any(m.ci_low is not None for m in metrics):
        table.caption = Text("[low, high]: 95% bootstrap interval over the test units", style="dim")
        table.caption_justify = "left"
    for m, row in zip(metrics, rows):
        verdict = {True: Text("✓", style="green"), False: Text("✗", style="red"), None: Text("")}[m.met]
        table.add_row(*row, verdict)
    return table


def data_table(t: Table) -> RichTable:
    table = RichTable(title=t.title, title_justify="left", title_style="bold", caption=t.caption or None,
                      caption_justify="left", header_style="bold", show_edge=False)
    rows = [[_cell(c) for c in row] for row in t.rows]
    add_wrapping_columns(table, t.columns, rows, ["left"] + ["right"] * (len(t.columns) - 1))
    for row in rows:
        table.add_row(*row)
    return table


def _cell(c) -> str:
    if isinstance(c, float):
        return f"{c:,.4g}" if abs(c) < 1e4 else f"{c:,.0f}"
    if isinstance(c, int):
        return f"{c:,}"
    return str(c)


def render_stage(console: Console, design_title: str, stage: str, result: StageResult, seconds: float) -> None:
    parts: list = []
    if result.headline:
        parts.append(Text(result.headline, style="bold"))
    if result.metrics:
        parts += [Text(""), metrics_table(result.metrics)]
    for t in result.tables:
        parts += [Text(""), data_table(t)]
    width = max(40, min(70, console.width - 20))
    for chart in result.charts:
        parts += [Text(""), render_chart(chart, width=width)]
    if result.notes:
        parts.append(Text(""))
        parts += [Text("• " + note) for note in result.notes]
    # A short title, so a narrow terminal or a pipe never cuts it; the rest goes below the panel.
    console.print(Panel(Group(*parts), title=f"{design_title} · {stage}", title_align="left", border_style="blue",
                        subtitle=f"{STAGE_MINUTES[stage]} min in an interview · ran in {seconds:.1f} s",
                        subtitle_align="right"))
