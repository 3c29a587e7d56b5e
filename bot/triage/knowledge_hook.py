"""Knowledge in triage: the matching playbook's diagnosis as evidence, its proposals, similar past incidents,
and, when an incident resolves, the lesson: the incident written back and each executed action's outcome.
"""

from __future__ import annotations

import threading

import structlog

from bot.cards.model import Card, PlaybookRef, SimilarIncident
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.triage.evidence import TRIAGE_IDENTITY, Evidence, ReadChecks, summarise
from bot.triage.triage import PlaybookMatch, Proposal
from bot.triage.troubleshoot import Troubleshooting, troubleshoot
from knowledge.incident import Incident
from knowledge.outcomes import Outcomes
from knowledge.store import KnowledgeStore

log = structlog.get_logger(__name__)
MAX_PROPOSALS = 2


def knowledge_id(card: Card) -> str:
    """Incident ids repeat across Redis prefixes (inc-1…); with the start time they name one occurrence."""
    return f"{card.incident_id}@{int((card.started_at or card.updated_at).timestamp())}"


class KnowledgeTriage:
    """`collect`, `playbook` and `similar` for bot.triage.Triage, and `resolved` for the worker."""

    def __init__(self, door: Door, store: KnowledgeStore, outcomes: Outcomes):
        self.door, self.store, self.outcomes = door, store, outcomes
        self._runs: dict[str, Troubleshooting] = {}
        self._lock = threading.Lock()

    def collect(self, alert: Alert, incident_id: str | None) -> Evidence:
        caller = Caller(identity=TRIAGE_IDENTITY, via="triage", incident=incident_id, severity=alert.severity)
        run = troubleshoot(self.door, self.store, caller, alert=alert.name, labels=alert.labels,
                           text=f"{alert.summary} {alert.annotations.get('description', '')}", outcomes=self.outcomes)
        if not run.found or run.playbook is None:
            return ReadChecks(self.door)(alert, incident_id)
        with self._lock:
            self._runs[alert.fingerprint] = run
        lines = [line for r in run.evidence for line in summarise(r)]
        failed = [f"{r.invocation}: {r.error}" for r in run.evidence if r.status.value == "error"]
        return Evidence(lines=lines, could_not_run=failed, results=run.evidence)

    def playbook(self, alert: Alert, ev: Evidence) -> PlaybookMatch | None:
        with self._lock:
            run = self._runs.pop(alert.fingerprint, None)
        if run is None or run.playbook is None:
            return None
        pb = run.playbook
        ready = [p for p in run.proposals if not p.missing]
        ready.sort(key=lambda p: not p.recommended)
        proposals = [Proposal(tool=p.tool, args=p.args, why=f"playbook {pb.name}: {p.when}"
                              + (f" ({p.reason})" if p.reason else "")) for p in ready[:MAX_PROPOSALS]]
        steps = [f"{s.tool}({', '.join(f'{k}={v}' for k, v in s.args.items())})" for s in pb.diagnosis]
        return PlaybookMatch(playbook=PlaybookRef(name=pb.name, title=pb.title, steps=steps), proposals=proposals)

    def similar(self, alert: Alert, ev: Evidence) -> list[SimilarIncident]:
        text = f"{alert.name} {alert.summary} " + " ".join(line.text for line in ev.lines[:8])
        hits = self.store.similar_incidents(text, k=3)
        return [SimilarIncident(id=h.id, title=h.title, score=round(h.score, 2),
                                resolution="; ".join(h.incident.actions) or h.incident.outcome if h.incident else h.excerpt)
                for h in hits]

    def resolved(self, card: Card) -> None:
        """Write the incident back with its outcome, and record each executed action's outcome."""
        kind = card.playbook.name if card.playbook else card.title.split(":")[0]
        done = [a for a in card.actions if a.status in ("executed", "failed")]
        for a in done:
            self.outcomes.record(kind, a.tool, success=a.status == "executed")
        started = card.started_at or card.updated_at
        incident = Incident(
            id=knowledge_id(card), title=card.title, kind=kind, alert=card.title.split(":")[0],
            service=card.labels.get("service"), namespace=card.labels.get("namespace"), severity=card.severity,
            root_cause=card.analysis.root_cause if card.analysis else "",
            evidence=[line.text for line in card.evidence[:8]],
            actions=[f"{a.summary} ({a.status})" for a in done],
            outcome="resolved",
            started_at=started, resolved_at=card.resolved_at or card.updated_at,
        )
        self.store.add_incident(incident)
        log.info("incident_learned", incident=card.incident_id, kind=kind, actions=len(done))
