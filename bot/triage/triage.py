"""Triage: an incident's alert in, a Card out. Deterministic evidence first; every other part is optional.

Seams (all plain callables, injected at wiring time):
  collect(alert, incident_id) -> Evidence              default: bot.evidence.ReadChecks through the door
  playbook(alert, evidence) -> PlaybookRef | None      knowledge: the playbook the failure mode names
  similar(alert, evidence) -> list[SimilarIncident]    knowledge: past incidents like this one
  record(card) -> TrackRecord | None                   knowledge: the action verified outcomes recommend for the
                                                       card's kind, shown beside triage's own proposals
  analyse(alert, evidence) -> Analysis | None          the model's RCA; the card waits analyse_timeout_s for
                                                       it, a later one goes to `on_late` (the card is edited)
  propose(alert, evidence, analysis) -> list[Proposal] the model's proposals (the diagnosis's come first)
  graph(alert, incident_id) -> str | None              draws and keeps the alert's graph (bot.triage.graph), beside
                                                       the evidence; a reason when there is none ("Could not run")
Proposals go through Door.run as opsbot:triage with the incident's severity: the policy decides, and the
card carries the pending action ids. The diagnosis's own proposals also carry the failure mode the playbook names,
which a policy rule with a track record may allow by (policies/earned.py); the model's never do. Without a model,
the card still has the evidence and the playbook.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import BaseModel, Field

from bot.cards import strings as S
from bot.cards.model import Analysis, Card, CardAction, PlaybookRef, SimilarIncident, TrackRecord
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.metrics import Metrics
from bot.triage.began import began
from bot.triage.diagnosis import Diagnosis
from bot.triage.evidence import TRIAGE_IDENTITY, Evidence, ReadChecks
from bot.triage.steps import within_step
from tools.base import Status, ToolResult

log = structlog.get_logger(__name__)


class Proposal(BaseModel):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    why: str = ""


Collector = Callable[[Alert, str | None], Evidence]
PlaybookFinder = Callable[[Alert, Evidence], PlaybookRef | None]
SimilarFinder = Callable[[Alert, Evidence], list[SimilarIncident]]
Analyser = Callable[[Alert, Evidence], Analysis | None]
Proposer = Callable[[Alert, Evidence, Analysis | None], list[Proposal]]
Grapher = Callable[[Alert, str], str | None]
Recorder = Callable[[Card], TrackRecord | None]

_STATUS = {Status.approval_required: "pending", Status.denied: "denied", Status.success: "executed",
           Status.no_data: "executed", Status.error: "error"}


def failing(alert: Alert) -> str:
    where = "/".join(x for x in (alert.namespace, alert.service or alert.target.name) if x)
    text = alert.summary
    desc = alert.annotations.get("description")
    if desc and desc != text:
        text += f". {desc}"
    start = alert.starts_at.astimezone(UTC) if alert.starts_at and alert.starts_at.tzinfo else alert.starts_at
    since = f" since {start:%Y-%m-%d %H:%M} UTC" if start else ""
    return f"{text} ({where}{since})" if where else f"{text}{' (' + since.strip() + ')' if since else ''}"


def stated(d: Diagnosis | None) -> dict[str, Any]:
    """The card's diagnosis: opsbot's line, what it rests on, and the log line it rests on kept apart (quoted)."""
    if d is None:
        return {}
    cause = {"cause_object": d.about, "cause_words": d.summary}
    if d.basis == "logs":
        return {"diagnosis": f"{d.mode}: {d.about}", "diagnosis_basis": "logs", "diagnosis_source": d.summary,
                **cause}
    return {"diagnosis": d.line(), "diagnosis_basis": d.basis, **cause}


def card_action(p: Proposal, result: ToolResult) -> CardAction:
    data = result.data if isinstance(result.data, dict) else {}
    preview = data.get("preview") or {}
    return CardAction(tool=p.tool, summary=preview.get("summary") or result.invocation, args=p.args,
                      action_id=data.get("action_id"), status=_STATUS.get(result.status, "error"), why=p.why,
                      reason=data.get("reason") or result.error or result.notice or "",
                      expires_at=data.get("expires_at"), automatic=data.get("automatic"))


class Triage:
    def __init__(self, door: Door, *, collect: Collector | None = None, playbook: PlaybookFinder | None = None,
                 similar: SimilarFinder | None = None, analyse: Analyser | None = None,
                 propose: Proposer | None = None, graph: Grapher | None = None, record: Recorder | None = None,
                 analyse_timeout_s: float = 20.0,
                 metrics: Metrics | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.door = door
        self.collect = collect or ReadChecks(door)
        self.playbook, self.similar, self.analyse, self.propose = playbook, similar, analyse, propose
        self.graph, self.record = graph, record
        self.analyse_timeout_s, self.metrics, self.now = analyse_timeout_s, metrics, now
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="opsbot-analyse")
        # graphs draw beside the evidence, in their own threads: a slow analysis never holds a card's graph up
        self._drawing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="opsbot-graph")
        # Where an analysis that missed the card goes when it arrives (the pipeline edits the card); None:
        # it is dropped. The analyser's own client timeout bounds how late it can be.
        self.on_late: Callable[[str, Analysis], None] | None = None

    def _analysis(self, alert: Alert, ev: Evidence, incident_id: str) -> tuple[Analysis | None, str | None]:
        if self.analyse is None:
            return None, S.NO_ANALYSIS_MODEL
        future = self._pool.submit(self.analyse, alert, ev)
        try:
            result = future.result(timeout=self.analyse_timeout_s)
        except FutureTimeout:
            log.warning("analysis_timeout", alert=alert.name, timeout_s=self.analyse_timeout_s,
                        late=self.on_late is not None)
            if self.on_late is None:
                return None, S.ANALYSIS_TIMEOUT.format(seconds=self.analyse_timeout_s)
            future.add_done_callback(lambda f: self._late(incident_id, f))
            return None, S.ANALYSIS_LATE.format(seconds=self.analyse_timeout_s)
        except Exception as e:  # the model's failure must not cost the evidence card
            log.error("analysis_failed", alert=alert.name, error=f"{type(e).__name__}: {e}")
            return None, S.ANALYSIS_FAILED
        return result, None if result else S.ANALYSIS_FAILED

    def _late(self, incident_id: str, future: Future[Analysis | None]) -> None:
        try:
            analysis = future.result()
            if analysis is not None and self.on_late is not None:
                self.on_late(incident_id, analysis)
        except Exception as e:  # a late analysis lost costs nothing the card does not already show
            log.error("late_analysis_failed", incident=incident_id, error=f"{type(e).__name__}: {e}")

    def _propose(self, proposals: list[Proposal], alert: Alert, incident_id: str, failure_mode: str | None = None,
                 diagnosed: int = 0) -> list[CardAction]:
        """Each proposal through the door, once; the first `diagnosed` (the diagnosis's) with `failure_mode`."""
        caller = Caller(identity=TRIAGE_IDENTITY, via="triage", incident=incident_id, severity=alert.severity,
                        cluster=self.door.cluster_of(alert.labels))
        out, seen = [], set()
        for i, p in enumerate(proposals):
            key = (p.tool, tuple(sorted(p.args.items())))
            if key in seen:
                continue
            seen.add(key)
            mode = failure_mode if i < diagnosed else None
            p = p.model_copy(update={"args": self.door.on_cluster(p.tool, p.args, caller)})
            result = self.door.run(p.tool, p.args, caller.model_copy(update={"failure_mode": mode}))
            if self.metrics:
                self.metrics.actions.labels(p.tool, result.status.value).inc()
            out.append(card_action(p, result))
        return out

    def card(self, alert: Alert, incident_id: str, count: int = 1, made_from: str | None = None) -> Card:
        drawing = self._drawing.submit(self.graph, alert, incident_id) if self.graph else None
        ev = self.collect(alert, incident_id)
        playbook = self.playbook(alert, ev) if self.playbook else None
        similar = self.similar(alert, ev) if self.similar else []
        analysis, note = self._analysis(alert, ev, incident_id)
        d = within_step(ev.diagnosis, self.door.gate.engine)
        proposals = [Proposal(tool=tool, args=args, why=why) for tool, args, why in d.proposed()] if d else []
        diagnosed = len(proposals)
        if self.propose:
            proposals += self.propose(alert, ev, analysis)
        no_graph = drawing.result() if drawing else None
        card = Card(
            incident_id=incident_id, title=f"{alert.name}: {alert.summary}" if alert.summary != alert.name
            else alert.name, severity=alert.severity, status=alert.status, source=alert.source,
            failing=failing(alert), labels=alert.labels, common_labels=alert.common_labels,
            silenceable=self.door.gate.engine.never_silenced(alert.labels, alert.severity) is None, target=ev.target,
            failure_mode=d.mode if d else None,
            **stated(d), advice=d.advice if d else None, began=began(d, ev.results, alert.starts_at),
            evidence=ev.lines,
            could_not_run=ev.could_not_run + ([no_graph] if no_graph else []),
            similar=similar, playbook=playbook, analysis=analysis, analysis_note=note,
            actions=self._propose(proposals, alert, incident_id, playbook.name if playbook else None, diagnosed),
            links=alert.links, count=count,
            started_at=alert.starts_at, updated_at=self.now(), sentry_issue_id=alert.sentry_issue_id,
            made_from=made_from, cluster=self.door.cluster_of(alert.labels),
            notices=[S.GROUP_TRUNCATED.format(count=alert.group_truncated)] if alert.group_truncated else [],
        )
        return card.model_copy(update={"track_record": self._track_record(card)})

    def _track_record(self, card: Card) -> TrackRecord | None:
        if self.record is None:
            return None
        try:
            return self.record(card)
        except Exception as e:  # the track record is one line beside the evidence: never worth the card
            log.error("track_record_failed", incident=card.incident_id, error=f"{type(e).__name__}: {e}")
            return None

    def withdraw_pending(self, card: Card) -> Card:
        """The incident resolved: its actions still waiting for approval are withdrawn, on the card too."""
        actions = []
        for a in card.actions:
            if a.status == "pending" and a.action_id and \
                    self.door.gate.withdraw(a.action_id, TRIAGE_IDENTITY, S.WITHDRAWN):
                a = a.model_copy(update={"status": "expired", "outcome": f"withdrawn: {S.WITHDRAWN}"})
            actions.append(a)
        return card.model_copy(update={"actions": actions})

    def bare_card(self, alert: Alert, incident_id: str, count: int = 1) -> Card:
        """A card from the alert alone (a resolution whose firing card is gone): no checks run."""
        return Card(incident_id=incident_id, title=alert.name, severity=alert.severity, status=alert.status,
                    source=alert.source, failing=failing(alert), labels=alert.labels,
                    common_labels=alert.common_labels, links=alert.links, count=count,
                    started_at=alert.starts_at, updated_at=self.now(), sentry_issue_id=alert.sentry_issue_id,
                    cluster=self.door.cluster_of(alert.labels))
