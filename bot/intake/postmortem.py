"""The postmortem draft of an incident, in Markdown: summary, impact window, timeline with durations, cause and
evidence, what was done by whom, follow-ups. Built only from what is already masked (the card, the incident's
figures, the audit trail), posted in the card's thread when the incident resolves (in messages Slack and Telegram
accept) and printed by `opsbot incident postmortem ID`."""

from __future__ import annotations

from datetime import datetime

from bot import messages as M
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.slack import esc
from bot.cards.store import CardStore
from bot.cards.story import span
from bot.cards.telegram import size
from bot.cards.thread import split
from bot.guard.audit import AuditRecord
from bot.intake.figures import FigureBook, Figures, by_person

MAX_EVIDENCE = 8
SHORT = 120  # an action's summary or an audit record's, in a line of the draft
MESSAGE = 3_500  # one message of the draft in a thread: under Slack's ~4,000 and Telegram's 4,096


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _short(text: str) -> str:
    return text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"


def _quoted(text: str) -> list[str]:
    return [f"  > {line}" for line in text.splitlines() or [""]]


def durations(f: Figures) -> str:
    """'detect 90 s · acknowledge 2 min · approve 3 min · fix 4 min · resolve 9 min' (what is known)."""
    approve = next((a.approve for a in f.actions if a.approve is not None and a.executed), None)
    pairs = [("detect", f.detect), ("acknowledge", f.acknowledge), ("approve", approve), ("fix", f.fix),
             ("resolve", f.resolve)]
    return " · ".join(f"{name} {span(d)}" for name, d in pairs if d is not None) or "none recorded"


def _timeline(f: Figures) -> list[str]:
    moments: list[tuple[datetime, str]] = [(f.started, M.PM_FIRED)]
    if f.carded and f.detect is not None:
        moments.append((f.carded, M.PM_CARDED.format(took=span(f.detect))))
    if f.acked and f.acknowledge is not None:
        moments.append((f.acked, M.PM_ACKED.format(who=f.acked_by, took=span(f.acknowledge))))
    for a in f.actions:
        if a.proposed:
            moments.append((a.proposed, M.PM_PROPOSED.format(id=a.id, summary=_short(a.summary))))
        if a.approved and a.approve is not None:
            moments.append((a.approved, M.PM_APPROVED.format(id=a.id, who=", ".join(a.approved_by),
                                                             took=span(a.approve))))
        if a.executed and a.how:
            moments.append((a.executed, M.PM_EXECUTED.format(id=a.id, how=M.PM_HOW[a.how])))
        if a.verified and a.verdict:
            moments.append((a.verified, M.PM_VERDICT.format(id=a.id, verdict=a.verdict)))
    if f.resolved and f.resolve is not None:
        moments.append((f.resolved, M.PM_RESOLVED_AT.format(took=span(f.resolve))))
    moments.sort(key=lambda m: m[0])
    return [f"- {at:%H:%M:%S} UTC (+{span(at - f.started)}) {what}" for at, what in moments]


def _cause(card: Card | None, incident: str) -> list[str]:
    if card is None:
        return [f"- {M.PM_NO_CAUSE}"]
    out = [M.PM_DIAGNOSIS.format(text=card.diagnosis) if card.diagnosis else f"- {M.PM_NO_CAUSE}"]
    if card.diagnosis_source or card.cause_words:
        out += [M.PM_DECISIVE, *_quoted(card.diagnosis_source or card.cause_words or "")]
    if card.evidence:
        out.append(M.PM_EVIDENCE)
        for line in card.evidence[:MAX_EVIDENCE]:
            out.append(f"  - {line.check}:")
            out += [f"  {q}" for q in _quoted(line.text)]
        if (more := len(card.evidence) - MAX_EVIDENCE) > 0:
            out.append(M.PM_MORE_EVIDENCE.format(n=more, s=_s(more), id=incident))
    if card.analysis:
        out.append(M.PM_ANALYSIS.format(confidence=card.analysis.confidence, text=card.analysis.root_cause))
    return out


def _done(records: list[AuditRecord]) -> list[str]:
    """Everything but the reads: decisions, acknowledgements, silences, approvals, denials, executions, feedback."""
    rows = [f"- {r.at:%H:%M:%S} UTC {r.identity}: {r.kind} {r.action} — {r.status}" + (f" ({_short(r.summary)})"
                                                                                         if r.summary else "")
            for r in records if r.kind != "tool_call" or by_person(r)]
    return rows or [M.PM_NOTHING_DONE]


def _follow_ups(f: Figures, card: Card | None) -> list[str]:
    out = [M.PM_FIX_FAILED.format(id=a.id, summary=_short(a.summary), verdict=a.verdict)
           for a in f.actions if a.verdict and a.fixed is False]
    if not any(a.fixed for a in f.actions):
        out.append(M.PM_NO_FIX)
    if card is not None and card.advice:
        out.append(M.PM_ADVICE.format(advice=card.advice))
    if card is not None and card.analysis and card.analysis.prevention:
        out.append(M.PM_PREVENT.format(text=card.analysis.prevention))
    if card is None or not card.diagnosis:
        out.append(M.PM_FIND_CAUSE)
    return [*out, M.PM_CONFIRM]


def draft(f: Figures, card: Card | None, records: list[AuditRecord], count: int, source: str) -> str:
    """The draft as Markdown lines joined."""
    name = (card.labels.get("alertname") if card else None) or f.title
    executed = [a for a in f.actions if a.executed]
    did = M.PM_ACTIONS.format(n=len(executed), s=_s(len(executed)), list="; ".join(
        f"#{a.id} {_short(a.summary)}" + (f" ({a.verdict})" if a.verdict else "") for a in executed)) if executed \
        else M.PM_NO_ACTIONS
    lines = [M.PM_TITLE.format(id=f.incident, severity=f.severity, name=name), M.PM_NOTE, "", M.PM_SUMMARY,
             M.PM_ALERT, *_quoted(f.title)]
    lines.append(card.diagnosis if card is not None and card.diagnosis else M.PM_NO_CAUSE)
    if f.resolve is not None:
        lines.append(M.PM_RESOLVED.format(took=span(f.resolve), actions=did))
    end = f"{f.resolved:%Y-%m-%d %H:%M:%S} UTC" if f.resolved else M.PM_STILL
    lines += ["", M.PM_IMPACT, M.PM_WINDOW.format(start=f.started, end=end, took=span(f.resolve) if f.resolve
                                                  else M.PM_STILL),
              M.PM_ALERTS.format(count=count, s=_s(count), source=source)]
    if card is not None and card.target is not None:
        t = card.target
        lines.append(M.PM_TARGET.format(target="/".join(x for x in (t.namespace, t.workload_kind or t.kind,
                                                                     t.workload or t.name) if x)))
    lines += ["", M.PM_TIMELINE, *_timeline(f), "", M.PM_DURATIONS.format(line=durations(f)),
              "", M.PM_CAUSE, *_cause(card, f.incident), "", M.PM_DONE, *_done(records),
              "", M.PM_FOLLOW_UPS, *_follow_ups(f, card)]
    return "\n".join(lines)


def messages(text: str, incident: str) -> list[str]:
    """The draft as thread messages each platform accepts (split at line ends; past the thread's last message,
    where the rest is), measured as the larger of Telegram's size and Slack's escaped one."""
    return split(text.split("\n"), MESSAGE, lambda t: max(size(t), len(esc(t))),
                 lambda n: M.PM_MORE.format(id=incident, n=n, s=_s(n)))


def for_platform(part: str, platform: str) -> str:
    """A message of the draft as `platform` takes it: on Slack, alert and log text cannot mention or link
    (`<!channel>` stays text)."""
    return esc(part) if platform == "slack" else part


class Postmortems:
    def __init__(self, book: FigureBook, cards: CardStore):
        self.book, self.cards = book, cards

    def text(self, incident_id: str) -> str | None:
        """The draft of the incident as it stands now; None if there is no such incident."""
        found = self.book.of(incident_id)
        incident = self.book.incidents.get(incident_id)
        if found is None or incident is None:
            return None
        f, records = found
        return draft(f, self.cards.get(incident_id), records, incident.count, incident.source)

    def post(self, publisher: Publisher, incident_id: str) -> int:
        """The draft in the thread of the incident's card on every platform, once per incident (a replayed
        resolution posts nothing); how many messages each platform got."""
        text = self.text(incident_id)
        if text is None or not self.book.moments.mark(incident_id, "postmortem", self.book.incidents.now()):
            return 0
        parts = messages(text, incident_id)
        for part in parts:
            publisher.reply(incident_id, lambda platform, part=part: for_platform(part, platform))
        return len(parts)
