"""Practice sessions and answers in the results store.

Every answer is committed the moment it is scored, before the reference is shown,
so a crash, a closed terminal or Ctrl-C loses at most the answer being typed (and
that one is kept as a draft when the session is left on purpose).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import mlsd
from mlsd.errors import StoreError
from mlsd.store import Store

FOLLOWUPS_MARKER = "followups"  # a placeholder in `parts` until follow-ups are chosen


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Answer:
    part: str
    stage: str
    question: str
    answer: str
    skipped: bool
    hints: list[str]
    score: int
    points: list[dict[str, Any]]
    seconds: float | None
    budget_s: float
    answered_at: str = field(default_factory=now)

    @property
    def missed(self) -> list[dict[str, Any]]:
        """Key points not covered; the run group is extra credit, never a miss."""
        return [p for p in self.points if "credit" not in p and p.get("group", "key") == "key"]

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "stage": self.stage, "question": self.question, "answer": self.answer,
                "skipped": self.skipped, "hints": self.hints, "score": self.score, "points": self.points,
                "seconds": self.seconds, "budget_s": self.budget_s, "answered_at": self.answered_at}


@dataclass
class Session:
    id: int
    design: str
    parts: list[str]
    minutes_factor: float
    timer: bool
    source: str
    version: str
    started_at: str
    updated_at: str
    status: str                      # open | finished
    draft: dict[str, str] | None     # {"part": ..., "text": ...} left when quitting mid-answer
    answers: dict[str, Answer] = field(default_factory=dict)

    @property
    def remaining(self) -> list[str]:
        return [p for p in self.parts if p not in self.answers]

    @property
    def stages(self) -> list[str]:
        return [p for p in self.parts if ":" not in p and p != FOLLOWUPS_MARKER]

    @property
    def is_full(self) -> bool:
        """All five stages asked: the sessions whose overall scores are comparable."""
        from mlsd.registry import STAGES

        return set(STAGES) <= set(self.parts)

    @property
    def overall(self) -> int | None:
        """Answered parts' scores weighted by their minutes: an interview spends twice
        as long on the model as on the problem, so it counts twice as much."""
        answers = list(self.answers.values())
        weight = sum(a.budget_s for a in answers)
        if not weight:
            return None
        return round(sum(a.score * a.budget_s for a in answers) / weight)

    def to_dict(self) -> dict[str, Any]:
        return {"session": self.id, "design": self.design, "status": self.status, "parts": self.parts,
                "minutes_factor": self.minutes_factor, "timer": self.timer, "source": self.source,
                "version": self.version, "started_at": self.started_at, "updated_at": self.updated_at,
                "overall": self.overall, "answers": [self.answers[p].to_dict() for p in self.parts
                                                     if p in self.answers]}


class PracticeLog:
    """Reads and writes practice sessions through an open Store."""

    def __init__(self, store: Store) -> None:
        self.conn = store.conn
        self.path = store.path

    @contextmanager
    def _writing(self):
        """One transaction; a database that cannot be written is a StoreError, not a traceback."""
        try:
            with self.conn:
                yield
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot write to the results database {self.path}: {exc}. "
                             "Free disk space or set MLSD_HOME to a writable folder.") from None

    def start(self, design: str, parts: list[str], minutes_factor: float, timer: bool, source: str) -> Session:
        """A new open session. Earlier open sessions of the design that hold nothing
        (no answer, no draft: stopped before the first clock) are dropped."""
        stamp = now()
        with self._writing():
            self.conn.execute(
                "DELETE FROM practice_sessions WHERE design=? AND status='open' AND draft IS NULL"
                " AND id NOT IN (SELECT session_id FROM practice_answers)", (design,))
            cur = self.conn.execute(
                "INSERT INTO practice_sessions(design, parts, minutes_factor, timer, source, version,"
                " started_at, updated_at, status) VALUES (?,?,?,?,?,?,?,?, 'open')",
                (design, json.dumps(parts), minutes_factor, int(timer), source, mlsd.__version__, stamp, stamp),
            )
        return self.session(int(cur.lastrowid))

    def save_answer(self, session: Session, answer: Answer) -> None:
        with self._writing():
            self.conn.execute(
                "INSERT OR REPLACE INTO practice_answers(session_id, part, stage, question, answer, skipped, hints,"
                " score, points, seconds, budget_s, answered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (session.id, answer.part, answer.stage, answer.question, answer.answer, int(answer.skipped),
                 json.dumps(answer.hints), answer.score, json.dumps(answer.points), answer.seconds,
                 answer.budget_s, answer.answered_at),
            )
            self._touch(session, draft=None)
        session.answers[answer.part] = answer
        session.draft = None

    def set_parts(self, session: Session, parts: list[str]) -> None:
        with self._writing():
            self.conn.execute("UPDATE practice_sessions SET parts=? WHERE id=?", (json.dumps(parts), session.id))
        session.parts = parts

    def save_draft(self, session: Session, part: str, text: str) -> None:
        draft = {"part": part, "text": text} if text.strip() else None
        with self._writing():
            self._touch(session, draft=draft)
        session.draft = draft

    def finish(self, session: Session) -> None:
        with self._writing():
            self.conn.execute("UPDATE practice_sessions SET status='finished', updated_at=? WHERE id=?",
                              (now(), session.id))
        session.status = "finished"

    def _touch(self, session: Session, draft: dict[str, str] | None) -> None:
        self.conn.execute("UPDATE practice_sessions SET updated_at=?, draft=? WHERE id=?",
                          (now(), json.dumps(draft) if draft else None, session.id))

    # --- reading --------------------------------------------------------------
    def session(self, session_id: int) -> Session:
        return self._sessions("WHERE id=?", (session_id,))[0]

    def latest_open(self, design: str | None = None) -> Session | None:
        """The most recently touched unfinished session, of one design or any."""
        where, args = ("WHERE status='open' AND design=?", (design,)) if design else ("WHERE status='open'", ())
        found = self._sessions(where + " ORDER BY updated_at DESC, id DESC LIMIT 1", args)
        return found[0] if found else None

    def sessions(self) -> list[Session]:
        """Every session with its answers, oldest first."""
        return self._sessions("ORDER BY id", ())

    def count(self, design: str) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM practice_sessions WHERE design=?", (design,)).fetchone()[0]

    def _sessions(self, where: str, args: tuple) -> list[Session]:
        rows = self.conn.execute(
            "SELECT id, design, parts, minutes_factor, timer, source, version, started_at, updated_at, status, draft"
            f" FROM practice_sessions {where}", args).fetchall()
        sessions = [Session(r[0], r[1], json.loads(r[2]), r[3], bool(r[4]), r[5], r[6], r[7], r[8], r[9],
                            json.loads(r[10]) if r[10] else None) for r in rows]
        by_id = {s.id: s for s in sessions}
        if not by_id:
            return sessions
        marks = ",".join("?" * len(by_id))
        for row in self.conn.execute(
            "SELECT session_id, part, stage, question, answer, skipped, hints, score, points, seconds, budget_s,"
            f" answered_at FROM practice_answers WHERE session_id IN ({marks}) ORDER BY id", tuple(by_id),
        ):
            by_id[row[0]].answers[row[1]] = Answer(row[1], row[2], row[3], row[4], bool(row[5]), json.loads(row[6]),
                                                   row[7], json.loads(row[8]), row[9], row[10], row[11])
        return sessions
