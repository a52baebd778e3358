"""`--answers FILE`: a YAML mapping from stage name to answer text, plus an optional
`followups` list, for scripted practice and for tests. Parsed as data (safe_load)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlsd.errors import UsageError, did_you_mean
from mlsd.practice import plan
from mlsd.practice.session import Reply
from mlsd.registry import STAGES

FOLLOWUPS_KEY = "followups"
MAX_ANSWER_CHARS = 20_000  # about 3,000 words: far more than ten minutes of speech; scoring stays instant
MAX_FILE_BYTES = 1_000_000  # five stages and the follow-ups at the limit fit well inside


def load_answers(path: Path) -> dict:
    """The validated mapping; a usage error naming the problem otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"answers file {path} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}. "
                             f"Keep each answer under {MAX_ANSWER_CHARS:,} characters.")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read answers file {path}: {exc.strerror}. Pass a YAML file to --answers.") from None
    except UnicodeDecodeError:
        raise UsageError(f"answers file {path} is not UTF-8 text. Pass a YAML text file to --answers "
                         "(stage: | followed by the answer).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(f"answers file {path} is not valid YAML{where}. Write it as 'stage: |' followed by "
                         "the indented answer text.") from None
    if not isinstance(data, dict) or not data:
        raise UsageError(f"answers file {path} must map stage names ({', '.join(STAGES)}) to answer text, "
                         f"plus an optional '{FOLLOWUPS_KEY}' list.")
    valid = (*STAGES, FOLLOWUPS_KEY)
    for key, value in data.items():
        if key not in valid:
            raise UsageError(f"answers file {path}: unknown key '{key}'.{did_you_mean(str(key), valid)} "
                             f"Valid keys: {', '.join(valid)}.")
        if key == FOLLOWUPS_KEY:
            if not isinstance(value, list) or not all(isinstance(v, str | None) for v in value):
                raise UsageError(f"answers file {path}: '{FOLLOWUPS_KEY}' must be a list of answer texts.")
        elif not isinstance(value, str | None):
            raise UsageError(f"answers file {path}: the answer for '{key}' must be text (use 'key: |' for "
                             "several lines).")
    texts = [(key, v) for key, v in data.items() if key != FOLLOWUPS_KEY]
    texts += [(f"{FOLLOWUPS_KEY}[{i}]", v) for i, v in enumerate(data.get(FOLLOWUPS_KEY) or [])]
    for key, text in texts:
        if text and len(text) > MAX_ANSWER_CHARS:
            raise UsageError(f"answers file {path}: the answer for '{key}' has {len(text):,} characters; the "
                             f"limit is {MAX_ANSWER_CHARS:,} per answer. Shorten it.")
    return data


class FileAnswers:
    """Answers read from the file; a stage it leaves out counts as skipped."""

    name = "file"

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.followups = list(answers.get(FOLLOWUPS_KEY) or [])

    def followups_available(self) -> int | None:
        return len(self.followups)

    def ready(self, part: plan.Part, budget_s: float) -> bool:
        return True

    def ask(self, part: plan.Part, budget_s: float, draft: str) -> Reply:
        if part.is_followup:
            text = self.followups.pop(0) if self.followups else None
        else:
            text = self.answers.get(part.stage)
        if not text or not text.strip():
            return Reply("skip")
        return Reply("answer", text.strip())
