"""Summaries of practice: one session's report, and progress across all of them.

Spaced repetition, kept simple enough to explain in one line: a design comes back
after an interval that grows with its score (REVIEW_DAYS), and among designs that are
due, the weak and the long-unpractised come first.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from mlsd.practice.history import Session
from mlsd.registry import STAGES

READ_NEXT_BELOW = 70          # stages under this score are worth re-reading
# (score below, review after N days): weak answers come back the next day.
REVIEW_DAYS: tuple[tuple[int, int], ...] = ((50, 1), (70, 3), (85, 7), (101, 14))
RANDOM_FLOOR = 0.1            # every design keeps some chance under --random


def session_report(session: Session) -> dict[str, Any]:
    """Scores per stage and overall, time against budget, missed concepts, what to read."""
    stages, followups = {}, []
    for key in session.parts:
        answer = session.answers.get(key)
        if answer is None:
            continue
        entry = {"score": answer.score, "skipped": answer.skipped, "seconds": answer.seconds,
                 "budget_s": answer.budget_s, "hints": answer.hints,
                 "covered": [p for p in answer.points if "credit" in p], "missed": answer.missed,
                 "named_not_justified": [p for p in answer.points if "credit" in p and not p.get("justified", True)]}
        if ":" in key:
            followups.append({"question": answer.question, "stage": answer.stage, **entry})
        else:
            stages[key] = entry
    weak = sorted((s for s in stages if stages[s]["score"] < READ_NEXT_BELOW), key=lambda s: stages[s]["score"])
    return {
        "session": session.id,
        "design": session.design,
        "status": session.status,
        "overall": session.overall,
        "stages": stages,
        "followups": followups,
        "missed_concepts": sorted(({"stage": a.stage, "point": p["point"], "why": p["why"], "weight": p["weight"],
                                    "skipped": a.skipped} for a in session.answers.values() for p in a.missed),
                                  key=lambda m: (m["skipped"], -m["weight"])),
        "read_next": [f"mlsd learn {session.design} --stage {s}" for s in weak[:2]],
        "remaining": session.remaining,
    }


def _age_days(stamp: str, today: datetime) -> float:
    return max(0.0, (today - datetime.fromisoformat(stamp)).total_seconds() / 86400)


def review_interval(score: float) -> int:
    return next(days for below, days in REVIEW_DAYS if score < below)


def design_standing(design: str, sessions: list[Session], today: datetime) -> dict[str, Any]:
    """One design's record: last and best full-session scores, trend, stage scores
    (each stage's most recent answer), and when it is due again."""
    mine = [s for s in sessions if s.design == design and s.answers]
    full = [s for s in mine if s.is_full and s.status == "finished"]
    latest_stage: dict[str, int] = {}
    for s in mine:                                   # oldest first: later answers overwrite
        for key in s.parts:
            if key in s.answers and ":" not in key:
                latest_stage[key] = s.answers[key].score
    standing: dict[str, Any] = {"design": design, "sessions": len(mine), "full_sessions": len(full),
                                "last": full[-1].overall if full else None,
                                "best": max(s.overall for s in full) if full else None,
                                "trend": [s.overall for s in full[-8:]], "stage_scores": latest_stage}
    if not mine:
        return standing | {"level": None, "last_practised": None, "days_since": None, "review_every_days": None,
                           "due_in_days": 0.0, "priority": 1.0, "weakest_stage": None}
    level = sum(latest_stage.get(s, 0) for s in STAGES) / len(STAGES)  # unpractised stages count as 0
    last_practised = max(s.updated_at for s in mine)
    days = _age_days(last_practised, today)
    interval = review_interval(level)
    weakest = min(latest_stage, key=lambda s: (latest_stage[s], STAGES.index(s))) if latest_stage else None
    return standing | {
        "level": round(level), "last_practised": last_practised, "days_since": round(days, 1),
        "review_every_days": interval, "due_in_days": round(max(0.0, interval - days), 1),
        "priority": round(days / interval * (2 - level / 100), 3), "weakest_stage": weakest,
    }


def missed_concepts(sessions: list[Session], limit: int = 10) -> list[dict[str, Any]]:
    """The rubric points missed most often, with how often they were asked."""
    asked: Counter = Counter()
    missed: Counter = Counter()
    for s in sessions:
        for answer in s.answers.values():
            for p in answer.points:
                key = (s.design, answer.stage, p["point"])
                asked[key] += 1
                missed[key] += "credit" not in p and p.get("group", "key") == "key"
    ranked = sorted((k for k in missed if missed[k]), key=lambda k: (-missed[k], -missed[k] / asked[k], k))
    return [{"design": d, "stage": st, "point": pt, "missed": missed[(d, st, pt)], "asked": asked[(d, st, pt)]}
            for d, st, pt in ranked[:limit]]


def progress_summary(sessions: list[Session], practisable: list[str], today: datetime | None = None) -> dict[str, Any]:
    """Everything `mlsd progress` shows, as data (the --json output)."""
    today = today or datetime.now(timezone.utc)
    designs = practisable + sorted({s.design for s in sessions} - set(practisable))
    standings = [design_standing(d, sessions, today) for d in designs]
    open_sessions = [{"session": s.id, "design": s.design, "answered": len(s.answers), "parts": len(s.parts),
                      "updated_at": s.updated_at, "command": f"mlsd practice {s.design} --resume"}
                     for s in sessions if s.status == "open"]
    return {
        "designs": standings,
        "missed_concepts": missed_concepts(sessions),
        "next": suggest_next(standings, practisable),
        "open_sessions": open_sessions,
        "totals": {"sessions": len(sessions), "answers": sum(len(s.answers) for s in sessions),
                   "minutes": round(sum(a.seconds or 0 for s in sessions for a in s.answers.values()) / 60, 1)},
    }


def suggest_next(standings: list[dict[str, Any]], practisable: list[str]) -> dict[str, Any] | None:
    """The due design with the highest priority; never-practised designs count as due."""
    candidates = [s for s in standings if s["design"] in practisable]
    if not candidates:
        return None
    best = max(candidates, key=lambda s: (s["due_in_days"] == 0, s["priority"], -practisable.index(s["design"])))
    if best["sessions"] == 0:
        reason = "not practised yet"
    else:
        days = best["days_since"]
        when = "today" if days < 1 else f"{days:.0f} day(s) ago"
        reason = (f"level {best['level']}/100, practised {when}; at this level it comes back every "
                  f"{best['review_every_days']} day(s)")
        if best["due_in_days"] > 0:
            reason = f"nothing is due yet, this is the next ({reason})"
        if best["weakest_stage"]:
            reason += f"; weakest stage: {best['weakest_stage']} (--stage {best['weakest_stage']})"
    return {"design": best["design"], "command": f"mlsd practice {best['design']}", "reason": reason,
            "due_in_days": best["due_in_days"]}


def pick_random(standings: list[dict[str, Any]], practisable: list[str], rng: random.Random) -> str:
    """--random: a design drawn with weight (1 - level/100) + RANDOM_FLOOR, so the
    weakest come up most and none is never drawn. Unpractised designs weigh 1."""
    choices = [s for s in standings if s["design"] in practisable]
    weights = [(1.0 if s["level"] is None else 1 - s["level"] / 100) + RANDOM_FLOOR for s in choices]
    return rng.choices([s["design"] for s in choices], weights=weights, k=1)[0]
