"""What the subcommands share: the two consoles and shell-completion helpers."""

from __future__ import annotations

import os

from rich.console import Console

# stdout carries results (and JSON); stderr carries progress, errors and notices.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def complete_design(incomplete: str) -> list[str]:
    from mlsd.registry import all_designs

    return [d.slug for d in all_designs() if d.slug.startswith(incomplete)]


def complete_stage(incomplete: str) -> list[str]:
    from mlsd.registry import STAGES

    return [s for s in STAGES if s.startswith(incomplete)]


def complete_scale(incomplete: str) -> list[str]:
    from mlsd.registry import SCALES

    return [s for s in SCALES if s.startswith(incomplete)]


def interactive() -> bool:
    """Draw progress bars and pagers only for a person at a terminal."""
    return err_console.is_terminal and not os.environ.get("CI")
