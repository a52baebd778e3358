"""`mlsd learn DESIGN`: the reference walkthrough, paged in a terminal."""

from __future__ import annotations

import os

import typer

from mlsd.cli.common import complete_design, complete_stage, console


def learn(
    design: str = typer.Argument(..., help="Design slug, e.g. fraud (see `mlsd list`).",
                                 autocompletion=complete_design),
    stage: str | None = typer.Option(None, "--stage", "-s", help="Show one stage only.",
                                     autocompletion=complete_stage),
) -> None:
    """Read the reference walkthrough: what to say at each stage, the rubric, follow-ups.

    Examples:

      mlsd learn fraud

      mlsd learn fraud --stage model
    """
    from rich.markdown import Markdown

    from mlsd import walkthrough_reader
    from mlsd.registry import check_stage, get_design

    info = get_design(design)
    if stage is not None:
        check_stage(stage)
    doc = Markdown(walkthrough_reader.load(info.slug).to_markdown(stage))
    if console.is_terminal:
        os.environ.setdefault("LESS", "-RFX")  # keep colours, quit if it fits on one screen
        with console.pager(styles=True):
            console.print(doc)
    else:
        console.print(doc)
