"""An incident's outcome figures: when its alert started, its card was posted, a person first acted on it, each
action was proposed, approved, executed and judged, and when it resolved; and the durations between them.

Read, never written, from where each moment is recorded: the incident's timeline (the alert's own start and end),
its moments (bot/intake/moments.py: card posted, verdicts) and the audit log (decisions, acknowledgements,
silences, approvals, denials, executions, feedback, each with its incident). `opsbot report`, the metrics observed
at resolution and the postmortem draft all read them from here."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from bot.guard.audit import AuditLog, AuditRecord
from bot.intake.incidents import Incident, IncidentStore
from bot.intake.moments import Moments
from bot.settings import Settings
from bot.wiring import redis_client
from knowledge.feedback import WORDS

_ACTION_ID = re.compile(r"^#(\S+)")


def by_person(record: AuditRecord) -> bool:
    """Something a person did (opsbot's own identities are `opsbot:…`)."""
    return not record.identity.startswith("opsbot")


class ActionFigures(BaseModel):
    id: str
    tool: str
    summary: str
    proposed: datetime | None = None
    approved: datetime | None = None
    approved_by: list[str] = []
    executed: datetime | None = None
    executed_by: str | None = None
    verdict: str | None = None
    verified: datetime | None = None
    fixed: bool | None = None

    @property
    def how(self) -> Literal["automatic", "approved"] | None:
        """How it came to run: a person approved it, or the policy allowed it outright; None: it did not run."""
        if self.executed is None:
            return None
        return "approved" if self.approved_by else "automatic"

    @property
    def approve(self) -> timedelta | None:
        return self.approved - self.proposed if self.approved and self.proposed else None

    @property
    def fix(self) -> timedelta | None:
        return self.verified - self.executed if self.fixed and self.verified and self.executed else None


class Figures(BaseModel):
    incident: str
    severity: str
    title: str
    started: datetime
    carded: datetime | None = None
    acked: datetime | None = None
    acked_by: str | None = None
    resolved: datetime | None = None
    actions: list[ActionFigures] = []
    feedback: str | None = None

    @property
    def detect(self) -> timedelta | None:
        return self.carded - self.started if self.carded else None

    @property
    def acknowledge(self) -> timedelta | None:
        return self.acked - self.carded if self.acked and self.carded else None

    @property
    def fix(self) -> timedelta | None:
        """From the first action that fixed it running to its verdict."""
        return next((a.fix for a in self.actions if a.fix is not None), None)

    @property
    def resolve(self) -> timedelta | None:
        return self.resolved - self.started if self.resolved else None


def _action_id(record: AuditRecord) -> str | None:
    found = _ACTION_ID.match(record.summary)
    return found.group(1) if found else None


def figures(incident: Incident, started: datetime, resolved: datetime | None, records: list[AuditRecord],
            moments: Moments) -> Figures:
    """The figures of one incident from its audit records (time order) and its moments."""
    marks = moments.of(incident.id)
    out = Figures(incident=incident.id, severity=incident.severity, title=incident.title, started=started,
                  carded=marks["carded"].at if "carded" in marks else None, resolved=resolved)
    decided: dict[tuple[str, str], datetime] = {}  # (tool, target) → when the policy last decided on it
    actions: dict[str, ActionFigures] = {}
    for r in records:
        if by_person(r) and r.kind != "tool_call" and r.status != "refused" and out.acked is None:
            out.acked, out.acked_by = r.at, r.identity
        if r.kind == "feedback" and r.status == "success":  # as bot/guard/feedback.py audits a mark: its words
            out.feedback = next((w for w in WORDS.values() if r.summary == w or r.summary.startswith(f"{w}:")),
                                out.feedback)
        if r.kind == "decision":
            decided[r.action, r.target] = r.at
        if r.kind not in ("approval", "execution") or r.status == "refused" or not (aid := _action_id(r)):
            continue
        a = actions.setdefault(aid, ActionFigures(id=aid, tool=r.action, summary=r.summary.split(" ", 1)[-1],
                                                  proposed=decided.get((r.action, r.target))))
        if r.kind == "approval" and a.executed is None:
            a.approved, a.approved_by = r.at, [*a.approved_by, r.identity]
        elif r.kind == "execution" and r.status == "success":
            a.executed, a.executed_by = r.at, r.identity
            a.summary = a.summary.rsplit(": ", 1)[0]
    for a in actions.values():
        if (mark := marks.get(f"verdict:{a.id}")) is not None:
            a.verdict, a.verified, a.fixed = mark.text, mark.at, mark.fixed
    out.actions = list(actions.values())
    return out


class FigureBook:
    """Figures of one incident, or of every incident opened in a time window (one pass over the audit log)."""

    def __init__(self, incidents: IncidentStore, audit: AuditLog, moments: Moments):
        self.incidents, self.audit, self.moments = incidents, audit, moments

    def _ends(self, incident: Incident) -> tuple[datetime, datetime | None]:
        """When its alert started (its first opening) and, if it is resolved now, when it resolved."""
        changes = self.incidents.timeline(incident.id)
        started = next((c.at for c in changes if c.kind == "new"), incident.first_seen)
        resolved = changes[-1].at if incident.status == "resolved" and changes and changes[-1].kind == "resolved" \
            else None
        return started, resolved

    def of(self, incident_id: str) -> tuple[Figures, list[AuditRecord]] | None:
        """The incident's figures and its audit records (time order); None if no such incident."""
        incident = self.incidents.get(incident_id)
        if incident is None:
            return None
        started, resolved = self._ends(incident)
        since = min(started, incident.first_seen) - timedelta(minutes=1)
        records = self.audit.query(since=since, incident=incident_id, limit=10_000)
        return figures(incident, started, resolved, records, self.moments), records

    def opened(self, since: datetime, until: datetime) -> list[Figures]:
        """Every incident first seen in [since, until], oldest first."""
        found: list[Incident] = []
        missing = 0
        for seq in range(self.incidents.count(), 0, -1):
            incident = self.incidents.get(f"inc-{seq}")
            if incident is None:
                missing += 1
                if missing > 100:  # a long run of expired ones: nothing older is kept either
                    break
                continue
            missing = 0
            if incident.first_seen < since:
                break
            if incident.first_seen <= until:
                found.append(incident)
        by_incident: dict[str, list[AuditRecord]] = {i.id: [] for i in found}
        if found:
            for r in self.audit.query(since=since - timedelta(minutes=1), limit=1_000_000):
                if r.incident in by_incident:
                    by_incident[r.incident].append(r)
        out = []
        for incident in reversed(found):
            started, resolved = self._ends(incident)
            out.append(figures(incident, started, resolved, by_incident[incident.id], self.moments))
        return out


def figure_book(settings: Settings, prefix: str | None = None) -> FigureBook:
    """Readers over the stores `opsbot serve` writes, on the same Redis and key prefix."""
    client, prefix = redis_client(settings), prefix or settings.redis.key_prefix
    return FigureBook(IncidentStore(client, prefix, settings.webhooks.dedup_window_s, settings.webhooks.flap_threshold),
                      AuditLog(client, f"{prefix}audit"), Moments(client, prefix))
