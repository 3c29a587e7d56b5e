"""An incident's story for people: what fired and resolved, what triage read and found, what was proposed,
decided and executed, in time order. Read from the incident store, its card and the audit trail; written by
nothing here (`opsbot incident show`, `incident ID` in chat)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bot.cards.headline import headline
from bot.cards.model import Card
from bot.cards.store import CardStore
from bot.cards.thread import text_lines
from bot.guard.audit import AuditLog
from bot.intake.groups import AlertGroups
from bot.intake.incidents import Incident, IncidentStore
from bot.settings import Settings
from bot.wiring import redis_client

_CHANGE = {"new": "fired", "resolved": "resolved", "reopened": "fired again"}


class Moment(BaseModel):
    at: datetime
    what: str


class Story(BaseModel):
    incident: Incident
    card: Card | None = None
    card_of: str = ""  # the incident whose card shows this one (its group's lead), when not its own
    moments: list[Moment]


class Timelines:
    def __init__(self, incidents: IncidentStore, cards: CardStore, audit: AuditLog, groups: AlertGroups | None):
        self.incidents, self.cards, self.audit, self.groups = incidents, cards, audit, groups

    def story(self, incident_id: str) -> Story | None:
        incident = self.incidents.get(incident_id)
        if incident is None:
            return None
        lead = self.groups.card_of(incident_id) if self.groups else incident_id
        moments = [Moment(at=c.at, what=f"{_CHANGE.get(c.kind, c.kind)}: {c.text}"
                          + (" (flapping)" if c.flapping else "")) for c in self.incidents.timeline(incident_id)]
        reads: dict[str, int] = {}
        for r in self.audit.query(since=incident.first_seen.replace(microsecond=0), incident=incident_id,
                                  limit=5000):
            if r.kind == "tool_call" and r.status in ("success", "no_data", "error"):
                reads[r.action] = reads.get(r.action, 0) + 1
                if reads[r.action] > 1:
                    continue  # triage's reads: the first of each tool is enough to show when it looked
                moments.append(Moment(at=r.at, what=f"read {r.action} {r.target}".rstrip() + f": {r.status}"))
            else:
                by = "" if r.identity.startswith("opsbot") else f" by {r.identity}"
                moments.append(Moment(at=r.at, what=f"{r.kind} {r.action} {r.target}{by}: {r.status}"
                                      + (f" ({r.summary})" if r.summary else "")))
        moments.sort(key=lambda m: m.at)
        card = self.cards.get(lead)
        return Story(incident=incident, card=card, card_of=lead if lead != incident_id else "", moments=moments)

    def recent(self, limit: int = 20, status: str | None = None) -> list[Incident]:
        return [i for i in self.incidents.recent(limit if status is None else limit * 5)
                if status in (None, i.status)][:limit]


def timelines(settings: Settings, prefix: str | None = None) -> Timelines:
    """Readers over the stores `opsbot serve` writes, on the same Redis and key prefix."""
    client, prefix = redis_client(settings), prefix or settings.redis.key_prefix
    return Timelines(IncidentStore(client, prefix, settings.webhooks.dedup_window_s, settings.webhooks.flap_threshold),
                     CardStore(client, prefix), AuditLog(client, f"{prefix}audit"),
                     AlertGroups(client, prefix) if settings.intake.cards == "group" else None)


def list_text(incidents: list[Incident]) -> str:
    if not incidents:
        return "no incidents recorded"
    rows = [f"{i.id:<9} {i.status:<8} {i.severity:<4} {i.first_seen:%Y-%m-%d %H:%M} UTC  ×{i.count:<4} {i.title}"
            for i in incidents]
    return "\n".join(rows)


def story_text(story: Story) -> str:
    i = story.incident
    out = [f"{i.id} · {i.status} · {i.severity} · {i.source} · first seen {i.first_seen:%Y-%m-%d %H:%M:%S} UTC, "
           f"last {i.last_seen:%H:%M:%S} UTC, {i.count} alert{'s' if i.count != 1 else ''}", i.title]
    if story.card_of:
        out.append(f"shown as a line on the card of {story.card_of} (its Alertmanager group)")
    c = story.card
    if c is not None:
        if h := headline(c):
            out.append(h.plain())
        if c.advice:
            out.append(f"what a person should do: {c.advice}")
        out += text_lines(c)  # the card's thread: the diagnosis, every evidence line, the playbook, …
        for a in c.actions:
            out.append(f"action #{a.action_id or '-'} {a.summary}: {a.status}"
                       + (f" by {', '.join(a.decided_by)}" if a.decided_by else "") + (f"; {a.outcome}" if a.outcome
                                                                                          else ""))
    out.append("timeline:")
    out += [f"  {m.at:%Y-%m-%d %H:%M:%S}  {m.what}" for m in story.moments] or ["  (nothing recorded)"]
    return "\n".join(out)
