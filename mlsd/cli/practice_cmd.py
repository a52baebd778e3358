"""`mlsd practice DESIGN`: a timed mock interview, scored against the rubric, with the
reference answer and the design's real numbers after every stage."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import typer

from mlsd.cli.common import complete_design, complete_scale, complete_stage, console, err_console


def practice(
    design: str | None = typer.Argument(None, help="Design slug, e.g. fraud (see `mlsd list`).",
                                        autocompletion=complete_design, show_default=False),
    stage: str | None = typer.Option(None, "--stage", "-s", autocompletion=complete_stage,
                                     help="Practise one stage (and its follow-ups) instead of all five."),
    random_design: bool = typer.Option(False, "--random", help="Pick the design for me, favouring my weakest."),
    resume: bool = typer.Option(False, "--resume", help="Continue my last unfinished session (of DESIGN, if given)."),
    answers: Path | None = typer.Option(None, "--answers", metavar="FILE",
                                        help="Take the answers from a YAML file: stage name -> text, "
                                             "plus an optional 'followups' list."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON (needs --answers)."),
    no_run: bool = typer.Option(False, "--no-run", help="Do not run the design's stages; scores and reference only."),
    minutes: float | None = typer.Option(None, "--minutes", metavar="M",
                                         help="Total minutes for the session (default 45: 5/10/10/10/5 "
                                              "for the stages, 5 for follow-ups), shared in proportion."),
    no_timer: bool = typer.Option(False, "--no-timer", help="No countdown (time is still recorded)."),
    editor: bool = typer.Option(False, "--editor", help="Write each answer in $EDITOR instead of the terminal."),
    scale: str = typer.Option("default", "--scale", autocompletion=complete_scale,
                              help="Scale of the design's run: default matches the walkthrough's figures."),
    seed: int = typer.Option(0, "--seed", help="Seed of the design's run."),
) -> None:
    """A timed mock interview, scored point by point, then the reference answer and the real numbers.

    Answer each stage; see what you covered and missed, then the reference answer and the
    design's real numbers. Everything is recorded.

    Type your answer over as many lines as you like; two empty lines or Ctrl-D submit it.
    On a line of its own, /hint reveals a rubric point (half credit), /skip moves on,
    /quit stops (Ctrl-C too); `--resume` continues where you stopped.

    Examples:

      mlsd practice fraud

      mlsd practice fraud --stage model --minutes 10

      mlsd practice --random

      mlsd practice fraud --resume

      mlsd practice fraud --answers my-answers.yaml --json --no-run
    """
    from mlsd import walkthrough_reader
    from mlsd.config import check_seed
    from mlsd.errors import UsageError
    from mlsd.practice import plan
    from mlsd.practice.answers_file import FileAnswers, load_answers
    from mlsd.practice.history import FOLLOWUPS_MARKER, PracticeLog
    from mlsd.practice.session import practise
    from mlsd.practice.summary import pick_random, progress_summary, session_report
    from mlsd.practice.terminal import EditorAnswers, TerminalAnswers
    from mlsd.practice.view import QuietPresenter, RichPresenter
    from mlsd.registry import check_scale, check_stage, get_design
    from mlsd.store import Store

    if design and random_design:
        raise UsageError("name a design or pass --random, not both. Try 'mlsd practice --random'.")
    if not (design or random_design or resume):
        raise UsageError("name a design to practise, e.g. 'mlsd practice fraud' (or --random, or --resume).")
    if resume and (stage or random_design):
        raise UsageError("--resume continues a session as it was planned; leave out --stage and --random.")
    if as_json and answers is None:
        raise UsageError("--json needs --answers FILE: an interactive session prints to the terminal.")
    if editor and answers is not None:
        raise UsageError("choose --editor or --answers FILE, not both.")
    if stage is not None:
        check_stage(stage)
    check_scale(scale)
    check_seed(seed)
    info = get_design(design) if design else None
    answer_data = load_answers(answers) if answers is not None else None
    if answer_data is None and not sys.stdin.isatty():
        raise UsageError("practice reads answers typed at a terminal; for scripted use pass --answers FILE "
                         "(a YAML file: stage name -> answer text).")

    with Store.open() as store:
        log = PracticeLog(store)
        if resume:
            session = _session_to_resume(log, info)
            info = get_design(session.design)
        else:
            if random_design:
                summary = progress_summary(log.sessions(), walkthrough_reader.available())
                info = get_design(pick_random(summary["designs"], walkthrough_reader.available(), random.Random()))
            walkthrough_reader.load(info.slug)  # a design without a walkthrough fails here, before a session exists
            keys = plan.stage_keys(stage)
            waiting = log.latest_open(info.slug)
            source_name = "file" if answer_data is not None else "editor" if editor else "terminal"
            session = log.start(info.slug, keys + [FOLLOWUPS_MARKER], plan.minutes_factor(minutes, keys),
                                not no_timer, source_name)
            if waiting is not None and (waiting.answers or waiting.draft) and not as_json:
                err_console.print(f"[dim]Session #{waiting.id} of {info.slug} is unfinished "
                                  f"({len(waiting.answers)} answered); 'mlsd practice {info.slug} --resume' "
                                  "continues the newest unfinished one.[/]")
        wt = walkthrough_reader.load(info.slug)
        timer = session.timer and not no_timer and answer_data is None

        numbers = None
        if not no_run:
            if info.executable:
                from mlsd.practice.live_run import BackgroundRun

                only = session.stages[0] if len(session.stages) == 1 else None
                numbers = BackgroundRun(info, only, scale, seed).start()
            elif not as_json:
                err_console.print(f"[dim]{info.title} does not run yet: scores and reference answers only.[/]")

        if answer_data is not None:
            source = FileAnswers(answer_data)
        elif editor:
            source = EditorAnswers(console, timer)
        else:
            source = TerminalAnswers(console, timer)
        session.timer = timer
        presenter = QuietPresenter() if as_json else RichPresenter(console, info, wt)
        followups = sum(":" in k for k in session.parts)
        presenter.intro(session, [plan.part(wt, k, followups) for k in session.parts if k != FOLLOWUPS_MARKER],
                        resume)
        try:
            practise(session, wt, log, source, presenter, numbers)
        except KeyboardInterrupt:
            presenter.paused(session)
            raise typer.Exit(130) from None

        if getattr(source, "interrupted", False):
            raise typer.Exit(130)
        report = session_report(session)
        if as_json:
            if numbers is not None:
                numbers.wait_finished()
                report["run"] = {"run_id": numbers.run_id, "scale": scale, "stages": presenter.numbers}
            print(json.dumps(report, indent=2))
        elif session.status == "finished":
            presenter.final(report)


def _session_to_resume(log, info):
    """The newest unfinished session, of this design or of any; a usage error if none."""
    from mlsd.errors import UsageError

    session = log.latest_open(info.slug if info else None)
    if session is None:
        which = f" of {info.slug}" if info else ""
        start = f"mlsd practice {info.slug if info else 'fraud'}"
        raise UsageError(f"no unfinished practice session{which} to resume. Start one with: {start}")
    return session
