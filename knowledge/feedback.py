"""People's word on an incident: "right cause", "wrong cause", "false alarm", "not actionable", who said it, when.

The marks and how they are typed (`mark_of`: 'wrong-cause', 'wrong cause', 'false_alarm', 'fp' …). Two of them
change what outcome learning counts (knowledge/outcomes.py): on a false alarm or a wrong cause the incident's
verdicts are kept apart, never counted as fixes of its kind; a wrong cause also holds the incident's actions back
from being recommended for that kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

Mark = Literal["right_cause", "wrong_cause", "false_alarm", "not_actionable"]
MARKS: tuple[Mark, ...] = get_args(Mark)
WORDS: dict[Mark, str] = {"right_cause": "right cause", "wrong_cause": "wrong cause", "false_alarm": "false alarm",
                          "not_actionable": "not actionable"}
NOT_COUNTED: frozenset[Mark] = frozenset({"false_alarm", "wrong_cause"})  # its verdicts teach nothing of its kind
NOTE_CHARS = 300
_ALIASES: dict[str, Mark] = {"right": "right_cause", "wrong": "wrong_cause", "false": "false_alarm",
                             "fp": "false_alarm", "na": "not_actionable"}


def mark_of(word: str) -> Mark | None:
    """The mark a person typed ('wrong-cause', 'wrong cause', 'False_Alarm', 'fp'), None if it is none."""
    key = "_".join(word.lower().replace("-", " ").replace("_", " ").split())
    if key in MARKS:
        return key  # type: ignore[return-value]
    return _ALIASES.get(key)


class Feedback(BaseModel):
    """The latest mark on an incident: what, by whom (a chat or CLI identity), when, and an optional note."""

    mark: Mark
    by: str
    at: datetime
    note: str = Field("", max_length=NOTE_CHARS)

    @property
    def words(self) -> str:
        return WORDS[self.mark]
