"""`mlsd progress`: scores over time, the concepts missed most, what to practise next."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mlsd.cli.common import console

SPARKS = "▁▂▃▄▅▆▇█"


def progress(
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    export: Path | None = typer.Option(None, "--export", metavar="FILE",
                                       help="Write the whole history (every answer) to FILE: .json or .csv."),
) -> None:
    """Your practice over time: scores, trends, concepts you miss, what to practise next.

    Best and last score per design, the trend, the concepts you miss most often, and what
    to practise next (weak and long-unpractised designs first).

    Examples:

      mlsd progress

      mlsd progress --json

      mlsd progress --export history.csv
    """
    from mlsd import walkthrough_reader
    from mlsd.errors import UsageError
    from mlsd.practice.history import PracticeLog
    from mlsd.practice.summary import progress_summary
    from mlsd.store import Store

    if export is not None and export.suffix.lower() not in (".json", ".csv"):
        raise UsageError(f"--export writes .json or .csv, not '{export.suffix or export.name}'. "
                         "Try --export history.json or --export history.csv.")
    store = Store.open_readonly()  # reading never creates or changes the store
    sessions = []
    if store is not None:
        with store:
            sessions = PracticeLog(store).sessions()
    if export is not None:
        count = write_history(export, sessions)
        console.print(f"Wrote {len(sessions)} sessions ({count} answers) to {export}.")
        return
    summary = progress_summary(sessions, walkthrough_reader.available())
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    show(summary)


def write_history(path: Path, sessions) -> int:
    """The full history: nested JSON, or one CSV row per answer."""
    from mlsd.errors import UsageError
    from mlsd.export import write_csv

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps({"sessions": [s.to_dict() for s in sessions]}, indent=2))
        else:
            rows = [(s, a) for s in sessions for a in (s.answers[p] for p in s.parts if p in s.answers)]
            columns = {
                "session": [s.id for s, _ in rows], "design": [s.design for s, _ in rows],
                "started_at": [s.started_at for s, _ in rows], "status": [s.status for s, _ in rows],
                "part": [a.part for _, a in rows], "stage": [a.stage for _, a in rows],
                "score": [a.score for _, a in rows], "skipped": [a.skipped for _, a in rows],
                "seconds": [a.seconds for _, a in rows], "budget_s": [a.budget_s for _, a in rows],
                "hints": [len(a.hints) for _, a in rows],
                "missed": ["; ".join(p["point"] for p in a.missed) for _, a in rows],
                "answered_at": [a.answered_at for _, a in rows],
                "question": [a.question for _, a in rows], "answer": [a.answer for _, a in rows],
            }
            write_csv(path, {name: _as_objects(values) for name, values in columns.items()})
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}. Pass another --export FILE.") from None
    return sum(len(s.answers) for s in sessions)


def _as_objects(values: list):
    import numpy as np

    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def sparkline(scores: list[int]) -> str:
    return "".join(SPARKS[min(len(SPARKS) - 1, score * len(SPARKS) // 101)] for score in scores)


def show(summary: dict) -> None:
    from rich.table import Table

    totals = summary["totals"]
    if not totals["sessions"]:
        console.print("No practice recorded yet. Start with: [bold]mlsd practice fraud[/] "
                      "(a 45-minute mock interview), or add --stage problem for five minutes.")
        return
    table = Table(title="Practice by design", title_justify="left", title_style="bold", header_style="bold",
                  show_edge=False)
    for name, justify in (("design", "left"), ("sessions", "right"), ("last", "right"), ("best", "right"),
                          ("trend", "left"), ("weakest stage", "left"), ("practised", "right"), ("due", "right")):
        table.add_column(name, justify=justify)
    for d in summary["designs"]:
        if not d["sessions"]:
            table.add_row(d["design"], "0", "", "", "", "", "never", "now")
            continue
        weakest = d["weakest_stage"]
        table.add_row(
            d["design"], str(d["sessions"]), _score(d["last"]), _score(d["best"]), sparkline(d["trend"]),
            f"{weakest} {d['stage_scores'][weakest]}" if weakest else "", _ago(d["days_since"]),
            "now" if d["due_in_days"] == 0 else f"in {d['due_in_days']:.0f} d",
        )
    console.print(table)
    console.print(f"[dim]{totals['sessions']} sessions, {totals['answers']} answers, "
                  f"{totals['minutes']:.0f} minutes answering. Last and best are full five-stage sessions.[/]")
    if summary["missed_concepts"]:
        missed = Table(title="Concepts missed most often", title_justify="left", title_style="bold",
                       header_style="bold", show_edge=False)
        for name in ("design", "stage", "concept", "missed"):
            missed.add_column(name, justify="right" if name == "missed" else "left")
        for m in summary["missed_concepts"]:
            missed.add_row(m["design"], m["stage"], m["point"], f"{m['missed']} of {m['asked']}")
        console.print()
        console.print(missed)
    for s in summary["open_sessions"]:
        console.print(f"Unfinished: session #{s['session']} of {s['design']} ({s['answered']} of {s['parts']} "
                      f"answered) · {s['command']}")
    if summary["next"]:
        nxt = summary["next"]
        console.print(f"\nNext: [bold]{nxt['command']}[/] — {nxt['reason']}.")


def _score(value: int | None) -> str:
    return "—" if value is None else str(value)


def _ago(days: float) -> str:
    if days < 1 / 24:
        return "just now"
    if days < 1:
        return f"{days * 24:.0f} h ago"
    return f"{days:.0f} d ago"
