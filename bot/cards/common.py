"""Pieces every renderer shares: the header line, action lines, confidence words."""

from __future__ import annotations

from bot.cards import strings as S
from bot.cards.model import Card, CardAction, SimilarIncident


def emoji(card: Card) -> str:
    return S.RESOLVED_EMOJI if card.status == "resolved" else S.SEVERITY_EMOJI.get(card.severity, "⚪")


def colour(card: Card) -> str:
    return S.RESOLVED_COLOUR if card.status == "resolved" else S.SEVERITY_COLOUR.get(card.severity, "#9b9b9b")


def one_line(text: str) -> str:
    """Source text on one line, its line breaks shown as ⏎: no line of it can pass for a line of opsbot's."""
    return " ⏎ ".join(part.strip() for part in text.splitlines())


def source_name(text: str, limit: int = 80) -> str:
    """An alert's or an issue's own name, fit to sit inside our quote marks: one line, none of those marks, cut."""
    text = one_line(text).replace("“", '"').replace("”", '"')
    return text if len(text) <= limit else text[: limit - 1] + "…"


def affected(card: Card) -> str | None:
    """The object the card is about, as triage resolved it (its workload first), or its namespace; then the
    cluster, when the alert named one."""
    t = card.target
    if t and (t.workload or t.name):
        kind, name = (t.workload_kind, t.workload) if t.workload else (t.kind, t.name)
        obj = source_name(f"{kind or 'object'} {t.namespace + '/' if t.namespace else ''}{name}", 100)
    elif ns := card.labels.get("namespace"):
        obj = source_name(f"namespace {ns}", 100)
    else:
        return None
    return f"{obj} {S.IN_CLUSTER.format(cluster=source_name(card.cluster, 63))}" if card.cluster else obj


def header(card: Card) -> tuple[str, str | None, str | None]:
    """The card's header: opsbot's words (severity, status, the object affected), then what the source calls it
    ('alert', 'Sentry issue') and its own name, which every renderer shows quoted, as the source's name, never
    as a sentence of opsbot's. A chat action card's title is opsbot's own: no name."""
    words = f"{emoji(card)} {card.severity} {S.STATUS[card.status]}"
    if card.source == "chat":
        return f"{words}: {card.title}", None, None
    if obj := affected(card):
        words += f" · {obj}"
    return words, S.NAMED.get(card.source, "alert"), source_name(card.labels.get("alertname") or card.title)


def headline(card: Card) -> str:
    """The header as plain text, the source's name in quote marks."""
    words, label, name = header(card)
    return f"{words} · {label} “{name}”" if name else words


def confidence(value: float) -> str:
    word = "high" if value >= 0.75 else "medium" if value >= 0.4 else "low"
    return f"{word} ({value:.0%})"


ACTION_CHARS = 100  # of an action's summary on a card; the whole one is in its thread


def action_line(a: CardAction, summary_chars: int | None = None) -> str:
    """The action, its state, the policy's reason, who decided and the outcome; its summary cut to
    `summary_chars` when given (a card's line: the whole summary is in the thread)."""
    ref = f"#{a.action_id} " if a.action_id else ""
    summary = a.summary if not summary_chars or len(a.summary) <= summary_chars else \
        a.summary[: summary_chars - 1] + "…"
    state = {"pending": "waiting for approval", "denied": "denied by policy", "executed": "executed",
             "failed": "failed", "approved": "approved", "expired": "expired", "error": "could not be proposed"}
    outcome = one_line(a.outcome) if a.outcome else None
    said = outcome is not None and outcome.startswith(state[a.status])  # "expired at 10:05 UTC, …" says it once
    line = f"{ref}{summary} — {outcome if said else state[a.status]}"
    if a.status == "pending" and a.expires_at:
        line += ", " + S.EXPIRES.format(at=a.expires_at)
    if a.reason:
        line += f" ({a.reason})"
    if a.automatic in S.AUTOMATIC:
        line += f"; {S.AUTOMATIC[a.automatic]}"
    if a.decided_by:
        line += f"; decided by {', '.join(a.decided_by)}"
    if outcome and not said:
        line += f"; {outcome}"
    if a.verdict:
        line += f"; {one_line(a.verdict)}"
    return line


def facts(card: Card) -> list[tuple[str, str]]:
    seen = f"{card.count} alert{'s' if card.count != 1 else ''}"
    out = [("Incident", f"{card.incident_id} · {seen}")]  # status, severity, source: the header says them
    if card.acknowledged:
        out.append((S.ACKNOWLEDGED, f"by {card.acknowledged.by} at {card.acknowledged.at:%H:%M} UTC"))
    if s := card.silence:
        if s.ended:
            out.append((S.SILENCE, f"by {s.by}, ended {s.ended:%H:%M} UTC"
                        + (f" by {s.ended_by}" if s.ended_by and not s.ended_by.startswith("opsbot") else "")))
        else:
            until = f"until resolved (at most {s.until:%H:%M} UTC)" if s.until_resolved else \
                f"until {s.until:%Y-%m-%d %H:%M} UTC"
            out.append((S.SILENCED, f"by {s.by} {until}"))
    if fb := card.feedback:
        out.append((S.FEEDBACK, S.FEEDBACK_FACT.format(words=fb.words, by=fb.by, at=fb.at)))
    return out


def controls(card: Card) -> list[tuple[str, str]]:
    """The on-call buttons a firing Alertmanager card offers now: (verb, label); verbs as Silencer takes them."""
    if card.status != "firing" or card.source != "alertmanager":
        return []
    out = [] if card.acknowledged else [("ack", S.ACK)]
    if card.silence and not card.silence.ended:
        return [*out, ("unsilence", S.UNSILENCE)]
    if not card.silenceable:
        return out
    return [*out, ("silence:1h", S.SILENCE_FOR.format(d="1h")), ("silence:4h", S.SILENCE_FOR.format(d="4h")),
            ("silence:resolved", S.SILENCE_UNTIL_RESOLVED)]


def feedback_buttons(card: Card) -> list[tuple[str, str]]:
    """The feedback buttons an incident's card offers, firing or resolved, all four always (a mark may be changed;
    the card's facts say the latest): (verb 'fb:MARK', label)."""
    return [] if card.source == "chat" else [(f"fb:{mark}", label) for mark, label in S.FEEDBACK_BUTTONS.items()]


def similar_line(s: SimilarIncident) -> str:
    """A past incident: its id, its title quoted (an alert's or an issue's words), how it was resolved."""
    return f"{s.id} “{source_name(s.title)}”" + (f" — {one_line(s.resolution)}" if s.resolution else "")


def group_lines(card: Card) -> tuple[str, list[str]] | None:
    """The heading and lines of the card's group (firing first), None on a card of one alert."""
    if len(card.group) < 2:
        return None
    firing = sum(g.status == "firing" for g in card.group)
    lines = []
    for g in card.group[:S.GROUP_SHOWN]:
        state = f"firing since {g.since:%H:%M} UTC" if g.status == "firing" and g.since else g.status
        mark = S.RESOLVED_EMOJI if g.status == "resolved" else S.SEVERITY_EMOJI.get(card.severity, "⚪")
        lines.append(f"{mark} “{source_name(g.name, 60)}” · {source_name(g.subject or g.incident_id, 100)} · "
                     f"{state} ({g.incident_id})")
    if len(card.group) > S.GROUP_SHOWN:
        lines.append(S.more_lines(len(card.group) - S.GROUP_SHOWN, card.incident_id))
    return S.group_heading(firing, len(card.group) - firing), lines


def diagnosed(card: Card) -> list[tuple[str, str, bool]]:
    """(heading, text, quoted) of the diagnosis (its heading says what it rests on), of the log line it rests
    on (the source's words: quoted), and of what a person should do, those the card has."""
    return [(h, t, q) for h, t, q in ((S.DIAGNOSIS_FROM[card.diagnosis_basis], card.diagnosis, False),
                                      (S.LOG_SAYS, card.diagnosis_source, True), (S.TO_DO, card.advice, False)) if t]


def said(card: Card) -> tuple[str, bool]:
    """The heading of the card's `failing` text, and whether to quote it: an alert's or Sentry's own words are
    quoted source material; a chat action card's line is opsbot's own."""
    return (S.REQUESTED, False) if card.source == "chat" else (S.FAILING, True)
