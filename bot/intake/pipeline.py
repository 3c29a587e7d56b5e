"""Building the alert pipeline from the settings: intake app, incident store, triage, cards, workers."""

from __future__ import annotations

import gc
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from bot.cards.model import Analysis, Card
from bot.cards.poster import Poster, Publisher
from bot.cards.sentry_comment import render_sentry_comment
from bot.cards.sentry_writer import SentryWriter
from bot.cards.store import CardStore
from bot.guard.door import Door
from bot.guard.expiry import ExpirySweep
from bot.guard.silencer import Silencer
from bot.guard.verify import Verifier
from bot.intake.figures import FigureBook
from bot.intake.groups import AlertGroups
from bot.intake.incidents import IncidentStore
from bot.intake.moments import Moments
from bot.intake.report import Reports, ReportSchedule
from bot.intake.stream import AlertStream
from bot.intake.webhooks.app import IntakeApp, create_app
from bot.metrics import Metrics
from bot.settings import Settings
from bot.triage.analysis import make_analyser
from bot.triage.graph import AlertGraph
from bot.triage.knowledge_hook import KnowledgeTriage
from bot.triage.triage import Triage
from bot.wiring import build_door, outcomes, redis_client
from knowledge.outcomes import Outcomes
from policies.engine import PolicyEngine

log = structlog.get_logger(__name__)


@dataclass
class Pipeline:
    settings: Settings
    prefix: str
    app: IntakeApp
    stream: AlertStream
    incidents: IncidentStore
    cards: CardStore
    publisher: Publisher
    triage: Triage
    sentry: SentryWriter
    metrics: Metrics
    learn: Callable[[Card], None] | None = None
    groups: AlertGroups | None = None
    silencer: Silencer | None = None
    expiry: ExpirySweep | None = None
    verifier: Verifier | None = None
    reporter: ReportSchedule | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def worker(self, name: str):  # -> Worker (imported late: worker imports this module's peers)
        from bot.intake.worker import Worker

        return Worker(name, self.settings, self.stream, self.incidents, self.triage, self.cards, self.publisher,
                      self.sentry, self.metrics, self.learn, self.groups, self.silencer, self.expiry,
                      self.verifier, self.reporter)


    def warm(self) -> None:
        """Build the backend clients once, before the first alert (the Kubernetes client takes ~1 s)."""
        backends = self.triage.door.ctx.backends
        for name in ("core_v1", "apps_v1", self.settings.logs.backend, "prometheus", "alertmanager"):
            try:
                getattr(backends, name)
            except Exception as e:  # a broken backend config is reported by the checks themselves, later
                log.warning("backend_warmup_failed", backend=name, error=f"{type(e).__name__}: {e}")

    def start_workers(self, n: int | None = None, name: str | None = None, warm: bool = True) -> None:
        """`n` worker threads, consumers of the stream's group named `NAME-i`; by default NAME is this host
        and process, so replicas (and a restarted pod) never share a consumer's pending entries."""
        if warm:
            self.warm()
        self.stream.ensure_group()
        name = name or f"{socket.gethostname()}-{os.getpid()}"
        for i in range(self.settings.intake.workers if n is None else n):
            w = self.worker(f"{name}-{i}")
            t = threading.Thread(target=w.run, args=(self.stop,), name=w.name, daemon=True)
            t.start()
            self.threads.append(t)

    def serve(self, host: str, port: int, log_level: str = "info") -> None:
        """Serve the webhooks until stopped. What start-up built (settings, policy, clients, models: most of
        the heap) is first moved out of the garbage collector's reach (gc.freeze), so a full collection in an
        alert storm scans only what requests made: the webhook's p99 in groups of 20 fell from 120 to 40 ms
        (bench/intake_ratio.py)."""
        import uvicorn

        gc.freeze()
        uvicorn.run(self.app, host=host, port=port, log_level=log_level, access_log=False)

    def stop_workers(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
        self.threads.clear()


def knowledge_triage(settings: Settings, door: Door, prefix: str, metrics: Metrics) -> tuple[Triage, KnowledgeTriage]:
    """Triage with the playbooks, past incidents and outcome learning, and the model's analysis if configured."""
    kt = KnowledgeTriage(door, door.ctx.backends.knowledge, outcomes(settings, prefix))
    triage = Triage(door, collect=kt.collect, playbook=kt.playbook, similar=kt.similar, record=kt.track_record,
                    analyse=make_analyser(settings), analyse_timeout_s=settings.intake.analyse_timeout_s,
                    metrics=metrics)
    return triage, kt


def build_pipeline(settings: Settings, posters: list[Poster], *, prefix: str | None = None,
                   door: Door | None = None, triage: Triage | None = None,
                   metrics: Metrics | None = None, learn: Callable[[Card], None] | None = None,
                   outcomes: Outcomes | None = None) -> Pipeline:
    """`outcomes`: where verdicts of executed actions are learned (the knowledge triage's); None: not learned."""
    prefix = prefix or settings.redis.key_prefix
    metrics = metrics or Metrics()
    client = redis_client(settings)
    door = door or build_door(settings, prefix=prefix)
    engine: PolicyEngine = door.gate.engine
    cards = CardStore(client, prefix)
    triage = triage or Triage(door, analyse=make_analyser(settings),
                              analyse_timeout_s=settings.intake.analyse_timeout_s, metrics=metrics)
    triage.metrics = triage.metrics or metrics
    if settings.intake.graphs and triage.graph is None:  # drawn from the Prometheus of the triage's own door
        triage.graph = AlertGraph(triage.door, cards.save_graph)
    publisher, sentry = Publisher(cards, posters, metrics), SentryWriter(settings.sentry, client, prefix, metrics)
    triage.on_late = late_analysis(publisher, sentry)
    stream = AlertStream(client, prefix, severity=engine.severity)
    incidents = IncidentStore(client, prefix, settings.webhooks.dedup_window_s, settings.webhooks.flap_threshold,
                              door.ctx.now)
    reports = Reports(stream, FigureBook(incidents, door.audit, Moments(client, prefix)), settings.intake.heartbeats)
    return Pipeline(
        settings=settings, prefix=prefix, app=create_app(settings, prefix=prefix, metrics=metrics, engine=engine),
        stream=stream, incidents=incidents, cards=cards, publisher=publisher, triage=triage, sentry=sentry,
        metrics=metrics, learn=learn,
        groups=AlertGroups(client, prefix) if settings.intake.cards == "group" else None,
        silencer=Silencer(door, cards, publisher), expiry=ExpirySweep(door.gate, cards, publisher),
        verifier=Verifier(door, cards, publisher, outcomes, metrics),
        reporter=ReportSchedule(reports, settings.report, posters, client, prefix, door.ctx.now),
    )


def late_analysis(publisher: Publisher, sentry: SentryWriter) -> Callable[[str, Analysis], None]:
    """An analysis that arrived after its card was posted: the card (as it is now) is edited to show it, and
    so is the Sentry comment."""

    def edit(incident_id: str, analysis: Analysis) -> None:
        shown = publisher.edit(incident_id, lambda card: card if card.analysis is not None else card.model_copy(
            update={"analysis": analysis, "analysis_note": None}))
        if shown is None or shown.analysis != analysis:
            return
        if shown.sentry_issue_id:
            sentry.upsert(shown.sentry_issue_id, render_sentry_comment(shown))
        log.info("late_analysis_shown", incident=incident_id)

    return edit
