"""The practice loop without a terminal: what it records, and that a failing design
run does not take the practice down with it."""

from __future__ import annotations

from mlsd import walkthrough_reader
from mlsd.practice.answers_file import FileAnswers
from mlsd.practice.history import FOLLOWUPS_MARKER, PracticeLog
from mlsd.practice.session import practise
from mlsd.practice.view import QuietPresenter
from mlsd.store import Store

FRAUD = walkthrough_reader.load("fraud")


class BrokenRun:
    def wait(self, stage):
        return None, "RuntimeError: out of memory"


def test_a_failed_design_run_is_reported_and_the_practice_finishes():
    presenter = QuietPresenter()
    with Store.open() as store:
        log = PracticeLog(store)
        session = log.start("fraud", ["problem", FOLLOWUPS_MARKER], 1.0, False, "file")
        practise(session, FRAUD, log, FileAnswers({"problem": FRAUD.stages["problem"].answer}), presenter,
                 BrokenRun())
        assert session.status == "finished" and session.parts == ["problem"]  # no follow-up answers given
        assert presenter.numbers["problem"] == {"error": "RuntimeError: out of memory"}
        assert log.session(session.id).answers["problem"].score >= 80


def test_an_empty_open_session_is_dropped_when_a_new_one_starts():
    with Store.open() as store:
        log = PracticeLog(store)
        empty = log.start("fraud", ["problem"], 1.0, True, "terminal")
        with_draft = log.start("fraud", ["problem"], 1.0, True, "terminal")
        log.save_draft(with_draft, "problem", "half an answer")
        log.start("fraud", ["problem"], 1.0, True, "terminal")
        ids = [s.id for s in log.sessions()]
        assert empty.id not in ids and with_draft.id in ids


def test_an_answer_the_store_cannot_take_is_shown_to_copy(capsys):
    import pytest

    from mlsd.cli.common import console
    from mlsd.errors import StoreError
    from mlsd.practice.view import RichPresenter
    from mlsd.registry import get_design

    with Store.open() as store:
        log = PracticeLog(store)
        session = log.start("fraud", ["problem"], 1.0, False, "file")
        store.conn.execute("PRAGMA query_only=ON")  # the disk is full, the file read-only...
        presenter = RichPresenter(console, get_design("fraud"), FRAUD)
        with pytest.raises(StoreError, match="cannot write to the results database"):
            practise(session, FRAUD, log, FileAnswers({"problem": "My carefully typed answer."}), presenter, None)
    assert "My carefully typed answer." in capsys.readouterr().out
