"""The documentation names what the code has: every `--set` key of every design is
listed in docs/cli.md, so a user reading it never misses a knob, and never reads one
that no longer exists (checked the other way for the keys the doc lists per design)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mlsd.registry import all_designs

CLI_DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
CONFIGURED = [d for d in all_designs() if d.config is not None]


@pytest.mark.parametrize("design", CONFIGURED, ids=lambda d: d.slug)
def test_cli_doc_lists_exactly_the_settings_of_each_design(design):
    names = [f.name for f in dataclasses.fields(design.config)]
    package = design.slug.replace("-", "_")
    paragraphs = [p for p in CLI_DOC.read_text().split("\n\n")
                  if "settings (`--set`):" in p and f"`designs/{package}/__init__.py`" in p]
    assert len(paragraphs) == 1, f"docs/cli.md has no settings paragraph for {design.slug}"
    listed = re.findall(r"`([a-z0-9_]+)`", paragraphs[0].split("(meanings in")[0].split(":", 1)[1])
    assert sorted(listed) == sorted(names), (
        f"docs/cli.md's {design.slug} settings differ from the config: "
        f"missing {sorted(set(names) - set(listed))}, stale {sorted(set(listed) - set(names))}")
