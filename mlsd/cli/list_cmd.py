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
    from mlsd.render import add_wrapping_columns

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
    if console.width < 80:  # too narrow for columns: one line per design, its metrics below
        for d in designs:
            status = "[green]runs[/]   " if d.executable else "[dim]not yet[/]"
            console.print(f"{d.order:>2}  [bold]{d.slug:<17}[/] {status}  {d.latency_budget_text}")
            console.print(f"    {', '.join(d.primary_metrics)}", style="dim")
        console.print("Next: [bold]mlsd learn fraud[/], then [bold]mlsd run fraud[/].")
        return
    # Narrower terminals keep the columns people choose by; the slug is the name to type.
    columns = ["#", "slug", "design", "difficulty", "budget", "primary metrics", "learn first", "status"]
    if console.width < 120:
        columns = ["#", "slug", "budget", "primary metrics", "status"]
    rows = []
    for d in designs:
        status = "[green]runs[/]" if d.executable else "[dim]not yet[/]"
        cells = {"#": str(d.order), "slug": d.slug, "design": d.title, "difficulty": d.difficulty,
                 "budget": d.latency_budget_text, "primary metrics": ", ".join(d.primary_metrics),
                 "learn first": ", ".join(d.prerequisites) or "-", "status": status}
        rows.append([cells[c] for c in columns])
    add_wrapping_columns(table, columns, rows, ["left"] * len(columns))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print("Next: [bold]mlsd learn fraud[/], then [bold]mlsd run fraud[/]. "
                  "'not yet' designs are listed with their metadata; running one says so.")
