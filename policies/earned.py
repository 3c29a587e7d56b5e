"""Autonomy earned, never granted by the model: whether a rule with a `track_record` runs an action by itself.

Only for the failure mode triage diagnosed (a playbook's name) and the action the rule names, in its namespaces,
never at P0, never while automatic actions are paused, and only when the verified outcomes of that mode and action
(knowledge/outcomes.py, read by the caller) meet the rule's bar; in `mode: shadow` (the default) it still asks
and says it would have run it. Anything it cannot tell makes it ask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from policies.durations import spoken
from policies.schema import Rule, Severity

Automatic = Literal["ran", "shadow", "paused", "unproven"]


@dataclass(frozen=True)
class Verified:
    """A failure mode's action's verified outcomes: how many, how many fixed it, and when one last did not."""

    verified: int
    fixed: int
    last_failure: datetime | None


# (failure mode, tool) → its verified outcomes; None when they could not be read (the rule then asks)
Records = Callable[[str, str], Verified | None]


def earned(rule: Rule, failure_mode: str | None, tool: str, namespace: str, severity: Severity,
           records: Records | None, paused: str | None, now: datetime) -> tuple[Automatic, str]:
    """What the rule makes of this request: 'ran' (allow) or why it asks ('shadow', 'paused', 'unproven'), and the
    words that say so."""
    if severity == "P0":  # whatever the file says: a person decides every P0 action
        return "unproven", "never automatic at P0: asks a person"
    if not rule.when.namespace or namespace not in rule.when.namespace or not failure_mode or \
            not rule.when.failure_mode or failure_mode not in rule.when.failure_mode:
        return "unproven", "a track record counts only in the rule's namespaces, for its failure modes: asks a person"
    if paused:
        return "paused", paused_words(paused)
    what = f"{failure_mode}/{tool}"
    record = records(failure_mode, tool) if records else None
    if record is None:
        return "unproven", f"the track record of {what} could not be read: asks a person"
    shown = _words(what, record, now)
    short = _short_of(rule, record, now)
    if short:
        return "unproven", f"{shown}: {short}: asks a person"
    if rule.mode != "enforce":
        return "shadow", f"{shown}: earned, but the rule is in shadow mode: asks a person"
    return "ran", f"{shown}: earned"


def _short_of(rule: Rule, record: Verified, now: datetime) -> str | None:
    """Where a record falls short of the rule's track_record, in words; None when it is earned."""
    t = rule.track_record
    assert t is not None
    if record.verified < t.min_verified:
        return f"fewer than the {t.min_verified} verified outcomes required"
    if record.fixed < t.min_success * record.verified - 1e-9:
        return f"below the {t.min_success:.0%} fixed required"
    if record.last_failure is not None and now - record.last_failure < t.no_failure_within:
        return f"one failed within the last {spoken(t.no_failure_within)}"
    return None


def _words(what: str, record: Verified, now: datetime) -> str:
    """'track record of crashloopbackoff/k8s_rollback: 12 verified, 11 fixed (92%), last failure 3h ago'."""
    rate = f" ({record.fixed / record.verified:.0%})" if record.verified else ""
    last = f"last failure {spoken(now - record.last_failure)} ago" if record.last_failure else "no failure recorded"
    return f"track record of {what}: {record.verified} verified, {record.fixed} fixed{rate}, {last}"


def paused_words(paused: str) -> str:
    """'automatic actions are paused (by cli:alice at 11:50 UTC): asks a person'."""
    return f"automatic actions are paused ({paused}): asks a person"
