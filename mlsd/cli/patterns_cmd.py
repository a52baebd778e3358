"""`mlsd patterns`: the recurring design patterns and the designs that use them."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from mlsd.cli.common import console


def patterns(
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON."),
) -> None:
    """Show which designs use each pattern (two-stage ranking, feature stores, bandits, ...).

    A design marked with a check mark runs today: `mlsd run SLUG` shows the pattern at work.

    Example:

      mlsd patterns
    """
    from mlsd.registry import PATTERNS, all_designs

    designs = all_designs()
    runs = {d.slug: d.executable for d in designs}
    rows = [(p, [d.slug for d in designs if p in d.patterns]) for p in PATTERNS]
    if as_json:
        print(json.dumps([{"pattern": p, "designs": [{"slug": s, "executable": runs[s]} for s in slugs]}
                          for p, slugs in rows], indent=2))
        return
    table = Table(title="Design patterns across the ten designs", title_justify="left", header_style="bold",
                  caption="✓ runs today", caption_justify="left")
    table.add_column("pattern")
    table.add_column("designs that use it")
    for p, slugs in rows:
        table.add_row(p, ", ".join(f"[green]{s} ✓[/]" if runs[s] else s for s in slugs))
    console.print(table)
