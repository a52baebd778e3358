"""Errors a user can fix by typing something else. The CLI prints them on one line
and exits with code 2; nothing else in mlsd catches them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UsageError(Exception):
    """Bad input: an unknown name, a malformed value or file. Exit code 2."""

    exit_code = 2


class StoreError(UsageError):
    """The results database cannot be read or written as it is. Exit code 2: the user
    moves the file aside or points MLSD_HOME elsewhere; mlsd never overwrites it."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
