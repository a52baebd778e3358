"""`mlsd list`: the ten designs in learning order."""

from __future__ import annotations

import json

import typer
from rich import box
from rich.table import Table

from mlsd.cli.common import console


def list_designs(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """List the ten designs in learning order, and which ones run today.

    Examples:

      mlsd list

      mlsd list --json
    """
    from mlsd.registry import all_designs

    designs = all_designs()
    if as_json:
        print(json.dumps([{
            "order": d.order, "slug": d.slug, "title": d.title, "difficulty": d.difficulty,
            "latency_budget_ms": d.latency_budget_ms, "latency_budget": d.latency_budget_text,
            "primary_metrics": list(d.primary_metrics), "prerequisites": list(d.prerequisites),
            "key_concepts": list(d.key_concepts), "patterns": list(d.patterns), "executable": d.executable,
        } for d in designs], indent=2))
        return
    table = Table(title="mlsd: ten executable ML system designs, in learning order", title_justify="left",
                  header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    wide = console.width >= 120  # an 80-column terminal keeps the columns people choose by
    columns = ["#", "slug", "design", "difficulty", "budget", "primary metrics", "learn first", "status"]
    if not wide:
        columns = [c for c in columns if c not in ("difficulty", "learn first")]
    for column in columns:
        table.add_column(column, no_wrap=column in ("#", "slug", "status", "budget"))
    for d in designs:
        status = "[green]runs[/]" if d.executable else "[dim]not yet[/]"
        cells = {"#": str(d.order), "slug": d.slug, "design": d.title, "difficulty": d.difficulty,
                 "budget": d.latency_budget_text, "primary metrics": ", ".join(d.primary_metrics),
                 "learn first": ", ".join(d.prerequisites) or "-", "status": status}
        table.add_row(*(cells[c] for c in columns))
    console.print(table)
    console.print("Next: [bold]mlsd learn fraud[/], then [bold]mlsd run fraud[/]. "
                  "'not yet' designs are listed with their metadata; running one says so.")
