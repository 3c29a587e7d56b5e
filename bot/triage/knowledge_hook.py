"""Knowledge in triage: the playbook the failure mode names (its extra reads, its runbook), similar past incidents,
the track record of the incident's kind (the action outcome learning recommends, with its verified count), and, when
an incident resolves, the lesson: the incident written back with each action's verdict (an execution that failed is
counted here; one that ran is counted by its verification, bot/guard/verify.py, when it decides).
"""

from __future__ import annotations

import threading
from typing import Any

import structlog

from bot.cards.model import Card, PlaybookRef, SimilarIncident, TrackRecord
from bot.guard.door import Caller, Door
from bot.guard.verify import kind_of, knowledge_id
from bot.intake.alert import Alert
from bot.intake.webhooks.synthetic import SMOKE_ALERT, SMOKE_PROJECT, is_smoke
from bot.triage.diagnosis import diagnose
from bot.triage.evidence import TRIAGE_IDENTITY, Evidence, evidence_of, gather
from bot.triage.reads import key
from bot.triage.rules.alert import NOT_FOUND
from bot.triage.troubleshoot import placeholder_values
from knowledge.incident import Incident
from knowledge.outcomes import Outcomes, OutcomesUnavailable
from knowledge.store import KnowledgeStore

log = structlog.get_logger(__name__)
FIXED = (" (executed)", " (fixed: ")  # an execution learned before verification, or one verified to have fixed it


def smoke_incident(incident: Incident | None) -> bool:
    """An incident `opsbot smoke` made, learned before smoke's incidents were skipped: never shown as similar."""
    return incident is not None and (incident.alert == SMOKE_ALERT or incident.service == SMOKE_PROJECT)


def fixed(incident: Incident) -> dict[str, Any]:
    """What a card says of a past incident beside its title: its kind, when it began, the actions that fixed it
    (recorded as 'summary (fixed: …)' by `resolved` once verified; 'summary (executed)' before verification
    existed), and how it ended."""
    done = [a.split(mark)[0] for a in incident.actions for mark in FIXED if mark in a]
    return {"kind": incident.kind, "started_at": incident.started_at, "fixes": done, "outcome": incident.outcome}


class KnowledgeTriage:
    """`collect`, `playbook`, `similar` and `track_record` for bot.triage.Triage, and `resolved` for the worker."""

    def __init__(self, door: Door, store: KnowledgeStore, outcomes: Outcomes):
        self.door, self.store, self.outcomes = door, store, outcomes
        self._runs: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def collect(self, alert: Alert, incident_id: str | None) -> Evidence:
        """The target's reads and diagnosis, then the steps of the playbook the failure mode names that were not
        read yet (when no mode fits yet, also those of the playbook the alert's name matches: reads only)."""
        caller = Caller(identity=TRIAGE_IDENTITY, via="triage", incident=incident_id, severity=alert.severity,
                        cluster=self.door.cluster_of(alert.labels))
        target, results, done = gather(self.door, caller, alert)
        first = diagnose(alert, results, target=target)
        books = [self.store.playbook(first.mode)] if first else []
        if first is None or first.mode == NOT_FOUND:
            hits = self.store.match_playbooks(alert.name, alert.labels, f"{alert.summary} "
                                              f"{alert.annotations.get('description', '')}", k=1)
            books += [hits[0].playbook] if hits and not hits[0].matched_by.startswith("similar") else []
        values = placeholder_values(alert.namespace or target.namespace, None, alert.labels, target)
        for pb in (b for b in books if b is not None):
            for step in pb.diagnosis:
                check = (step.tool, step.fill(values)) if step.needs <= values.keys() else None
                if check and key(check) not in done:
                    done.add(key(check))
                    results.append(self.door.run(*check, caller))
        with self._lock:
            self._runs[alert.fingerprint] = values
        return evidence_of(alert, target, results)

    def playbook(self, alert: Alert, ev: Evidence) -> PlaybookRef | None:
        """The playbook of the diagnosis' mode (never one the alert's name alone chose); its remediation is not
        proposed here: actions follow the diagnosis."""
        with self._lock:
            values = self._runs.pop(alert.fingerprint, None)
        pb = self.store.playbook(ev.diagnosis.mode) if ev.diagnosis else None
        if pb is None or values is None:
            return None
        steps = [f"{s.tool}({', '.join(f'{k}={v}' for k, v in args.items())})"
                 for s in pb.diagnosis if s.needs <= values.keys() for args in [s.fill(values)]]
        return PlaybookRef(name=pb.name, title=pb.title, steps=steps)

    def similar(self, alert: Alert, ev: Evidence) -> list[SimilarIncident]:
        text = f"{alert.name} {alert.summary} " + " ".join(line.text for line in ev.lines[:8])
        hits = self.store.similar_incidents(text, k=3)
        return [SimilarIncident(id=h.id, title=h.title, score=round(h.score, 2),
                                resolution="; ".join(h.incident.actions) or h.incident.outcome if h.incident else h.excerpt,
                                **(fixed(h.incident) if h.incident else {}))
                for h in hits if not smoke_incident(h.incident)]

    def track_record(self, card: Card) -> TrackRecord | None:
        """The action outcome learning recommends for the card's kind (what verification counts it under), None
        without enough verified history; `action` None when Redis could not be read (the card says so)."""
        kind = kind_of(card)
        try:
            best = next(iter(self.outcomes.recommend(kind)), None)
        except OutcomesUnavailable as e:
            log.warning("track_record_unavailable", incident=card.incident_id, kind=kind, error=str(e)[:200])
            return TrackRecord(kind=kind)
        if best is None:
            return None
        return TrackRecord(kind=kind, action=best.action, succeeded=best.succeeded, total=best.total)

    def resolved(self, card: Card) -> None:
        """Write the incident back with its outcome, and count each execution that failed (one that ran counts as
        its verification decided, not here: resolving later is not proof that it worked); `opsbot
        smoke`'s synthetic incidents are not learned."""
        if is_smoke(card.labels):
            log.info("smoke_incident_not_learned", incident=card.incident_id)
            return
        kind = kind_of(card)
        done = [a for a in card.actions if a.status in ("executed", "failed")]
        for a in done:
            if a.status == "failed":
                self.outcomes.record(kind, a.tool, success=False)
                self.outcomes.failed(kind, a.tool, a.decided_at or card.updated_at)  # a policy's "none failed in 24h"
        started = card.started_at or card.updated_at
        incident = Incident(
            id=knowledge_id(card), title=card.title, kind=kind, alert=card.title.split(":")[0],
            service=card.labels.get("service"), namespace=card.labels.get("namespace"), severity=card.severity,
            root_cause=card.analysis.root_cause if card.analysis else "",
            evidence=[line.text for line in card.evidence[:8]],
            actions=[f"{a.summary} ({a.verdict or a.status})" for a in done],
            outcome="resolved",
            started_at=started, resolved_at=card.resolved_at or card.updated_at,
        )
        self.store.add_incident(incident.marked(card.feedback) if card.feedback else incident)
        log.info("incident_learned", incident=card.incident_id, kind=kind, actions=len(done))
