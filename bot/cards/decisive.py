"""The few evidence lines a card shows, each with the read (the object) it comes from: each fact once (the same
line from several pods is one line, counted; a line that says no more than another of the same object is folded
into it), the lines the diagnosis quotes first, then those that report something wrong, only lines of the objects
the diagnosis is about (never an unrelated pod's); the headline's quote is not repeated. Every line stays in the
card's thread (bot.cards.thread).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.cards.common import one_line
from bot.cards.model import Card
from bot.cards.objects import SPEAKER as SAID_BY
from bot.cards.objects import among, named, names, owner

MAX_SHOWN = 5
LINE_CHARS = 110  # of one line on the card
BUDGET = 360  # of all the card's evidence lines: past it, no further line (but always two)
NOT_FOUND = "cause-not-found"  # the mode triage gives when no rule explains the alert (bot.triage.rules.alert)
DIAGNOSIS = "diagnosis"  # the check of the evidence lines triage gives the diagnosis: its line, then its quotes
# a pod of a workload: name-<template hash>-<5> (Deployment) or name-<5> (DaemonSet, StatefulSet's are -N)
POD = re.compile(r"\b[a-z0-9](?:[-a-z0-9]*[a-z0-9])?-(?:[a-z0-9]{5,10}-)?[a-z0-9]{5}\b")
BAD = re.compile(r"(?i)(error|fatal|fail|backoff|kill|refused|denied|not found|unavailable|timeout|timed out|"
                 r"exceed|evict|warning|panic|exception|unschedulable|insufficient|pressure|expired|not ready|"
                 r"missing|no such|cannot|could not|unreachable|\b0/\d+ available|replaced revision|throttl|oom|"
                 r"ready false|restarts [1-9]|pending|crashloop|not set|invalid|forbidden|unhealthy|full|saturat)")
ERROR = re.compile(r"(?i)\b(error|fatal|panic|exception|refused|denied|fail\w*|timed? ?out|not found|killed)\b")
SAME_TAIL = 40  # two lines ending in the same this many characters say the same thing (one message, two reads)
LEVEL = re.compile(r"^(?:\S+ \S+ (?:\(previous\) )?: )?(?:fatal|error|warn(?:ing)?|info|panic|critical)\b[: ]*",
                   re.I)


# what the evidence summaries put before a pod's own words: "pod container[ (previous)]: "
SPEAKER = re.compile(r"^[a-z0-9][-a-z0-9./]*(?: [a-z0-9][-a-z0-9]*)?(?: \(previous\))?: ")
ARG = re.compile(r"(\w+)='([^']*)'")


def words(line: str) -> str:
    """A quoted log line without the pod and container the summary put before it (the object is said apart)."""
    return SPEAKER.sub("", one_line(line), count=1)


READ = {"k8s_pod_logs": "logs", "logs_search": "log search", "k8s_events": "events", "k8s_list": "pods",
        "prom_query": "metric"}  # what a read without a kind read, in a word


def source(check: str) -> str:
    """The object a read read, short: 'Deployment shop/checkout', 'logs shop/checkout-5d8f-x2', not the call."""
    tool, _, args = check.partition("(")
    found = dict(ARG.findall(args))
    if not found:
        return check
    name = named(check)
    obj = "/".join(x for x in (found.get("namespace"), name) if x)
    return " ".join(x for x in (found.get("kind") or READ.get(tool, tool), obj) if x)


class Shown(NamedTuple):
    check: str
    text: str
    pods: int  # how many pods said it (1: one, or not a pod's line)
    owner: str | None = None  # whose the line is (bot.cards.objects.owner)

    def line(self) -> str:
        """The line as the card shows it: cut to LINE_CHARS (whole in the thread), counted when pods repeat it."""
        text = self.text if len(self.text) <= LINE_CHARS else self.text[: LINE_CHARS - 1] + "…"
        return text + (f" (×{self.pods} pods)" if self.pods > 1 else "")


def diagnosis_quotes(card: Card) -> list[str]:
    """The source lines the diagnosis rests on (word for word), as triage puts them first in the evidence."""
    lines = [e.text for e in card.evidence if e.check == DIAGNOSIS]
    return lines[1:] if card.diagnosis and lines and card.diagnosis.startswith(lines[0][:40]) else lines


def bad(text: str) -> bool:
    """The line reports something wrong (an error, a failure, a state that is not the healthy one)."""
    return bool(BAD.search(text))


def telling(card: Card) -> str | None:
    """No cause found: the first evidence line that reports an error, else one that reports something wrong,
    else the first line at all."""
    lines = [e.text for e in card.evidence if e.status == "ok" and e.check != DIAGNOSIS]
    return next((t for t in lines if ERROR.search(t)), next((t for t in lines if bad(t)), lines[0] if lines else None))


def _tail(text: str) -> str:
    return LEVEL.sub("", one_line(text)).lower()[-SAME_TAIL:]


def _repeats(text: str, said: str) -> bool:
    """`text` says what `said` says: one holds the other's last words."""
    a, b = _tail(text), _tail(said)
    return bool(a and b) and (a in one_line(said).lower() or b in one_line(text).lower())


def facts(card: Card) -> list[Shown]:
    """Every evidence line but the diagnosis' own and a read's "no data" (never decisive), once: lines that differ
    only in a pod's name are one, counted."""
    seen: dict[str, tuple[str, str, set[str]]] = {}
    for e in card.evidence:
        if e.check == DIAGNOSIS or e.status != "ok":
            continue
        text = one_line(e.text)
        pods = set(POD.findall(text))
        key = POD.sub("<pod>", text)
        check, first, known = seen.setdefault(key, (e.check, text, set()))
        known |= pods
    return [Shown(source(check), text, max(1, len(pods)), owner(check, text))
            for check, text, pods in seen.values()]


def _within(short: Shown, long: Shown) -> bool:
    """`short` says no more than `long` about the same object ("Pod/redis-master-0: CrashLoopBackOff" within
    "redis-master-0 redis: CrashLoopBackOff: back-off 5m0s …"): one fact, said once."""
    same = short.owner == long.owner if short.owner and long.owner else short.check == long.check
    rest = SAID_BY.sub("", short.text, count=1).strip().lower()
    return same and short is not long and len(rest) >= 4 and rest in long.text.lower()


def decisive(card: Card, quote: str | None) -> list[Shown]:
    """At most MAX_SHOWN lines for the card, best first, none repeating `quote` (the headline's) or each other
    (every line is in the thread)."""
    every = facts(card)
    known = names(card) if card.failure_mode and card.failure_mode != NOT_FOUND else set()
    rank: dict[int, float] = {}
    for q in diagnosis_quotes(card):
        said = words(q)
        i = next((i for i, f in enumerate(every) if said in f.text), None)
        if i is None:
            every.append(Shown(DIAGNOSIS, one_line(q), 1))
            i = len(every) - 1
        rank.setdefault(i, 0 if bad(q) else 1.5)  # a quote that reports nothing wrong is context, after the faults
    for i, f in enumerate(every):
        if known and not among(f.owner, known):  # a line of a pod the diagnosis is not about: in the thread only
            continue
        rank.setdefault(i, 1 if bad(f.text) else 2)
    rank = {i: r for i, r in rank.items() if not (quote and _repeats(every[i].text, quote))}
    shown: list[Shown] = []
    worst = min(rank.values(), default=2)  # healthy lines only where nothing reports a fault (then at most 3)
    for i in sorted(rank, key=lambda i: (rank[i], i)):
        f = every[i]
        if len(shown) == (MAX_SHOWN if worst < 2 else 3) or rank[i] > max(worst, 1.5):
            break
        if any(_repeats(f.text, s.text) or _within(f, s) for s in shown):
            continue
        folded = next((k for k, s in enumerate(shown) if _within(s, f)), None)
        if folded is not None:  # the fuller line in the place of the one it holds
            shown[folded] = f
            continue
        if len(shown) >= 2 and sum(len(s.line()) for s in shown) + len(f.line()) > BUDGET:
            break
        shown.append(f)
    return shown
