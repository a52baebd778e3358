"""How practice looks in the terminal: the question, the verdict point by point, the
reference answer, the stage's numbers, and the final screen. The --json presenter
shows nothing and keeps the stage numbers for the JSON output."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from mlsd.practice import plan
from mlsd.practice.history import FOLLOWUPS_MARKER, Answer, Session
from mlsd.practice.scoring import FRAGMENT_CREDIT, NAMED_CREDIT, OTHER_STAGE_CREDIT, WORDS_PER_POINT, Score
from mlsd.practice.terminal import clock
from mlsd.registry import DesignInfo
from mlsd.walkthrough_reader import Walkthrough

MISSED_SHOWN = 12


def score_style(score: int) -> str:
    return "green" if score >= 70 else "yellow" if score >= 40 else "red"


def bar(score: int, width: int = 20) -> Text:
    filled = round(score / 100 * width)
    return Text("█" * filled + "░" * (width - filled), style=score_style(score))


class RichPresenter:
    def __init__(self, console: Console, info: DesignInfo, walkthrough: Walkthrough) -> None:
        self.console = console
        self.info = info
        self.walkthrough = walkthrough

    def intro(self, session: Session, parts: list[plan.Part], resumed: bool) -> None:
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        table.add_column("part")
        table.add_column("time", justify="right")
        for p in parts:
            budget = p.minutes * 60 * session.minutes_factor
            table.add_row(p.title, clock(budget) if session.timer else "untimed")
        if FOLLOWUPS_MARKER in session.parts:
            budget = plan.FOLLOWUP_MINUTES * 60 * session.minutes_factor
            table.add_row("Follow-ups on your weakest stages", clock(budget) if session.timer else "untimed")
        lead = " ".join(self.walkthrough.intro.split("\n\n")[0].split())
        heading = f"Resuming session #{session.id}" if resumed else f"Mock interview · session #{session.id}"
        self.console.print(Panel(Group(Text(lead), Text(""), table), title=f"{heading} · {self.info.title}",
                                 title_align="left", border_style="magenta"))
        if resumed and session.answers:
            done = ", ".join(f"{k} {a.score}" for k, a in session.answers.items())
            self.console.print(f"[dim]Already answered: {done}.[/]")

    def part(self, part: plan.Part, number: int, total: int, budget_s: float) -> None:
        self.console.print()
        self.console.print(Rule(f"[bold]{number}/{total} · {part.title}", align="left", style="magenta"))
        self.console.print("[bold]Interviewer:[/]")
        for question in part.questions:
            self.console.print(f"  • {question}", markup=False)

    def scored(self, part: plan.Part, score: Score, answer: Answer) -> None:
        title = "skipped" if answer.skipped else f"{score.score}/100"
        table = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
        table.add_column(width=2)
        table.add_column()
        for p in (p for p in score.points if p.group == "key"):
            if p.covered and p.justified:
                mark, style = "✓", "green"
            elif p.covered:
                mark, style = "~", "yellow"
            else:
                mark, style = "✗", "red"
            if p.covered:
                how = "" if p.credit == 1 else f" [dim](credit {p.credit:.2f}: {_why_partial(p)})[/]"
                table.add_row(Text(mark, style=style),
                              Text.from_markup(f"{_esc(p.point)}{how}\n[dim]  “{_esc(p.evidence)}”[/]"))
            else:
                table.add_row(Text(mark, style=style), Text.from_markup(f"[bold]{_esc(p.point)}[/]\n[dim]  {_esc(p.why)}[/]"))
        quoted = [p for p in score.points if p.group == "run" and p.covered]
        for p in quoted:
            table.add_row(Text("★", style="cyan"), Text.from_markup(
                f"{_esc(p.point)} [dim](from the run, extra credit)[/]\n[dim]  “{_esc(p.evidence)}”[/]"))
        notes = []
        if score.elaboration < 1:
            notes.append(Text(f"Scaled by {score.elaboration:.2f}: {score.words} words for {len(score.covered)} points "
                              f"(the score expects about {WORDS_PER_POINT} words of explanation per point).",
                              style="yellow"))
        if answer.seconds is not None:
            over = answer.seconds - answer.budget_s
            timing = f"Time: {clock(answer.seconds)} of {clock(answer.budget_s)}"
            notes.append(Text(timing + (f" ({clock(-over)} over)" if over > 0 else ""), style="dim"))
        self.console.print(Panel(Group(table, *notes), title=f"Your answer · {title}", title_align="left",
                                 border_style=score_style(score.score)))

    def reference(self, part: plan.Part) -> None:
        self.console.print(Panel(Markdown(part.reference), title="Reference answer", title_align="left",
                                 border_style="blue"))

    def stage_numbers(self, stage: str, numbers) -> None:
        from mlsd.render import render_stage

        with self.console.status(f"Running the {stage} stage of {self.info.title}…"):
            stage_run, error = numbers.wait(stage)
        if stage_run is None:
            self.console.print(f"[yellow]The {stage} stage could not run: {error}[/]")
            return
        self.console.print(f"[dim]What the design does (mlsd run {self.info.slug} --stage {stage}):[/]")
        render_stage(self.console, self.info.title, stage, stage_run.result, stage_run.duration_s)

    def paused(self, session: Session) -> None:
        left = [k for k in session.remaining if k != FOLLOWUPS_MARKER]
        then = " and the follow-ups" if FOLLOWUPS_MARKER in session.remaining else ""
        self.console.print(f"\nSaved session #{session.id}: {len(session.answers)} answered, {len(left)} to go{then}. "
                           f"Continue with: [bold]mlsd practice {session.design} --resume[/]")

    def unsaved(self, text: str) -> None:
        if text.strip():
            self.console.print("[yellow]This answer could not be saved; here it is to copy:[/]")
            self.console.print(text, markup=False, highlight=False)

    def final(self, report: dict[str, Any]) -> None:
        table = Table(title=f"Session #{report['session']} · {self.info.title}", title_justify="left",
                      title_style="bold", header_style="bold", show_edge=False)
        for name, justify in (("part", "left"), ("score", "right"), ("", "left"), ("time", "right"),
                              ("missed", "right")):
            table.add_column(name, justify=justify)
        rows = [(stage.capitalize(), entry) for stage, entry in report["stages"].items()]
        rows += [(f"Follow-up ({f['stage']})", f) for f in report["followups"]]
        for name, entry in rows:
            spent = "—" if entry["seconds"] is None else clock(entry["seconds"])
            table.add_row(name, "skip" if entry["skipped"] else str(entry["score"]), bar(entry["score"]),
                          f"{spent} / {clock(entry['budget_s'])}", str(len(entry["missed"])))
        overall = report["overall"] or 0
        table.add_section()
        table.add_row(Text("Overall", style="bold"), Text(str(overall), style="bold " + score_style(overall)),
                      bar(overall), "", "")
        parts: list = [table]
        missed = [m for m in report["missed_concepts"] if not m["skipped"]]
        if missed:
            parts += [Text(""), Text("Concepts missed in your answers", style="bold")]
            parts += [Text(f"  {m['stage']}: {m['point']}") for m in missed[:MISSED_SHOWN]]
            if len(missed) > MISSED_SHOWN:
                parts.append(Text(f"  … and {len(missed) - MISSED_SHOWN} more (mlsd progress --json lists all)",
                                  style="dim"))
        named = [(stage, p["point"]) for stage, entry in report["stages"].items()
                 for p in entry.get("named_not_justified", []) if p.get("group", "key") == "key"]
        if named:
            parts += [Text(""), Text("Named but not justified (say why, a trade-off or a number)", style="bold")]
            parts += [Text(f"  {stage}: {point}") for stage, point in named[:MISSED_SHOWN]]
        if report["read_next"]:
            parts += [Text(""), Text("Read next", style="bold")]
            parts += [Text(f"  {command}") for command in report["read_next"]]
        parts += [Text(""), Text("Your history: mlsd progress", style="dim")]
        self.console.print()
        self.console.print(Panel(Group(*parts), title="Final score", title_align="left", border_style="magenta"))


def _why_partial(point) -> str:
    """Why a covered point earned less than its weight, in the scorer's own terms."""
    reasons = []
    if not point.in_prose:
        reasons.append(f"named in a fragment, not a sentence: x{FRAGMENT_CREDIT}")
    elif not point.justified:
        reasons.append(f"named but not justified (no reason, trade-off or number): x{NAMED_CREDIT}")
    if point.found_in:
        reasons.append(f"said in the {point.found_in} stage: x{OTHER_STAGE_CREDIT}")
    if point.hinted:
        reasons.append("after a hint")
    return "; ".join(reasons)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class QuietPresenter:
    """--json: nothing on the screen; the stage numbers are kept for the output."""

    def __init__(self) -> None:
        self.numbers: dict[str, Any] = {}

    def _ignore(self, *args: Any) -> None:
        """Nothing on the screen under --json."""

    intro = part = scored = reference = paused = final = unsaved = _ignore

    def stage_numbers(self, stage: str, numbers) -> None:
        stage_run, error = numbers.wait(stage)
        if stage_run is None:
            self.numbers[stage] = {"error": error}
        else:
            result = stage_run.result.to_dict()
            self.numbers[stage] = {"headline": result["headline"],
                                   "metrics": result["metrics"], "duration_s": round(stage_run.duration_s, 3)}
