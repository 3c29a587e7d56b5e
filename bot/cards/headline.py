"""The card's headline, its first line after the title: what is wrong, where, and since when, in words a person
writes ("shop/checkout crash-loops: “FATAL config error: required environment variable DATABASE_URL is not set”
(began with release 1.5.0, 25 min before the alert)"); when triage found no cause, it says so and quotes the most
telling line. When the cause lives in another object than the alerted one (a Service, a dependency's pod), the
headline names that object and quotes its own line or, when it has none, the mechanism's fact (the Service's
selector against the pods' labels), never a caller's symptom. opsbot's words are cut at a word, never inside one.
The source's words are kept apart from opsbot's, so every renderer shows them quoted (our quote marks in plain
text, code in Slack and Telegram), never as a sentence of opsbot's.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.cards import strings as S
from bot.cards.common import one_line, source_name
from bot.cards.decisive import NOT_FOUND, bad, diagnosis_quotes, facts, telling, words
from bot.cards.model import Card
from bot.cards.objects import OBJECT, among, lead, owner

QUOTE_CHARS = 160
WHERE_CHARS = 100


class Headline(NamedTuple):
    """opsbot's words, the source's words (quoted by the renderer; None: none), then opsbot's again."""

    before: str
    quote: str | None
    after: str

    def plain(self) -> str:
        """As plain text (console, Sentry): the source's words in our quote marks, none of those marks inside."""
        return self.before + (f"“{source_name(self.quote, QUOTE_CHARS + 1)}”" if self.quote is not None else "") + \
            self.after


def cut_words(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters, cut after a whole word ('…' marks the cut)."""
    text = source_name(text, len(text) + 1)
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:") + "…"


def _alerted(card: Card) -> str | None:
    t = card.target
    if t and (t.workload or t.name):
        name = t.workload or t.name
        return f"{t.namespace}/{name}" if t.namespace else f"{t.kind or 'object'} {name}"
    return None


def elsewhere(card: Card) -> bool:
    """The diagnosis names an object that holds the cause other than the alerted workload."""
    short = _alerted(card)
    return bool(card.cause_object) and (short is None or short not in (card.cause_object or ""))


def where(card: Card) -> str:
    """The object, short: the workload the alert resolved to ('shop/checkout'), or the object the diagnosis
    names when the cause lives elsewhere (its leading object: 'Pod cache/redis-master-0 (CrashLoopBackOff)'),
    or the namespace."""
    if elsewhere(card):
        return cut_words(lead(card.cause_object or ""), WHERE_CHARS)
    if short := _alerted(card):
        return cut_words(short, WHERE_CHARS)
    ns = card.labels.get("namespace")
    return f"namespace {source_name(ns, 60)}" if ns else S.SOMETHING


def _its_own(card: Card, quote: str) -> bool:
    """`quote` is a line of the object that holds the cause (not a caller's symptom)."""
    cause = set(OBJECT.findall(card.cause_object or ""))
    said = words(quote)
    whose = next((f.owner for f in facts(card) if said in f.text), None) or owner("", quote)
    return bool(cause) and whose is not None and among(whose, cause)


def cause_quote(card: Card, cut: bool = True) -> str | None:
    """The source's words the headline quotes (cut to QUOTE_CHARS): the log line a diagnosis from the logs rests
    on, else the first line it quotes that reports a fault, else its decisive state; on a diagnosis from the alert
    alone, the most telling line."""
    if card.diagnosis_basis == "alert" or card.failure_mode == NOT_FOUND:  # the most telling line instead
        quote = telling(card)
        return (_cut(words(quote)) if cut else words(quote)) if quote else None
    own = (lambda q: _its_own(card, q)) if elsewhere(card) else (lambda q: True)  # a caller's line is no cause
    first = next((q for q in diagnosis_quotes(card) if bad(q) and own(q)), None)  # a line that says what is wrong
    quote = card.diagnosis_source or (words(first) if first else None) or card.cause_words
    return (_cut(quote) if cut else one_line(quote)) if quote else None


def _cut(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def headline(card: Card) -> Headline | None:
    """The headline of an alert card (None for a chat action card, whose title says it all)."""
    if card.source == "chat":
        return None
    at = where(card)
    if not card.failure_mode or card.failure_mode == NOT_FOUND:
        line = telling(card)
        line = _cut(line) if line else None
        if line is None:
            return Headline(S.NO_CAUSE.format(where=at), None, "")
        before, _, after = S.NO_CAUSE_TELLING.format(where=at, line="\0").partition("\0")
        return Headline(before, line, after)
    what = S.WHAT_IS_WRONG.get(card.failure_mode) or S.WRONG.format(mode=card.failure_mode)
    if elsewhere(card) and (caller := _alerted(card)) and card.failure_mode in S.WHAT_IS_WRONG_BEHIND:
        what = S.WHAT_IS_WRONG_BEHIND[card.failure_mode].format(caller=caller)
    since = card.began or (S.SINCE.format(at=card.started_at) if card.started_at and card.status == "firing" else None)
    after = f" ({since})" if since else ""
    quote = cause_quote(card)
    if quote is None:
        return Headline(f"{at} {what}: {one_line(card.cause_words or '')}".rstrip(": "), None, after)
    if card.diagnosis_basis == "alert":
        return Headline(f"{at} {what}, {S.ALERT_ALONE}: ", quote, after)
    return Headline(f"{at} {what}: ", quote, after)
