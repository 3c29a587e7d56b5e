"""Triage workers: read deliveries from the stream, apply each of their alerts to incidents, publish cards, then
acknowledge.

The webhook stores each delivery whole as one entry; the stream unpacks it into its alerts (built,
fingerprinted and ranked here, off the request path). At-least-once: an entry is acknowledged only after the
effects (incident, card, message ids, Sentry comment) of every alert in it are stored. A worker that dies
mid-delivery leaves the entry pending; another reclaims it after `intake.reclaim_idle_s` (XAUTOCLAIM) and
applies its alerts again. Replays are harmless: each alert has its own key (entry id and place in the
delivery), the incident update is idempotent per key, a card built from the same key is reused instead of
re-triaged, and cards and comments are upserted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import redis
import structlog

from bot.cards import strings as S
from bot.cards.model import Card
from bot.cards.poster import Publisher
from bot.cards.sentry_comment import render_sentry_comment
from bot.cards.sentry_writer import SentryWriter
from bot.cards.store import CardStore
from bot.guard.expiry import ExpirySweep
from bot.guard.silencer import Silencer
from bot.guard.verify import Verifier
from bot.intake.alert import Alert
from bot.intake.figures import FigureBook
from bot.intake.groups import AlertGroups
from bot.intake.incidents import IncidentStore, Observation
from bot.intake.moments import Moments
from bot.intake.postmortem import Postmortems
from bot.intake.report import ReportSchedule
from bot.intake.stream import AlertStream, Entry
from bot.metrics import Metrics
from bot.settings import Settings
from bot.triage.triage import Triage

log = structlog.get_logger(__name__)


class LeadNotReady(Exception):
    """A group line arrived before its lead's card was stored: the entry is retried, not dropped."""


class AlertsFailed(Exception):
    """Some alerts of an entry could not be applied (the others were): the entry stays pending and is retried."""

    def __init__(self, failed: list[tuple[str, Alert, Exception]]):
        self.failed = failed
        super().__init__("; ".join(f"{key}: {type(e).__name__}: {e}" for key, _, e in failed))


class Worker:
    def __init__(self, name: str, settings: Settings, stream: AlertStream, incidents: IncidentStore,
                 triage: Triage, cards: CardStore, publisher: Publisher, sentry: SentryWriter | None = None,
                 metrics: Metrics | None = None, learn: Callable[[Card], None] | None = None,
                 groups: AlertGroups | None = None, silencer: Silencer | None = None,
                 expiry: ExpirySweep | None = None, verifier: Verifier | None = None,
                 reporter: ReportSchedule | None = None):
        self.name, self.settings, self.stream, self.incidents = name, settings, stream, incidents
        self.groups, self.silencer, self.expiry, self.verifier = groups, silencer, expiry, verifier
        self.reporter = reporter
        self.triage, self.cards, self.publisher, self.sentry = triage, cards, publisher, sentry
        self.metrics = metrics or Metrics()
        self.learn = learn
        self.processed = 0
        self.moments = Moments(incidents.client, incidents.prefix)
        self.postmortems = Postmortems(FigureBook(incidents, triage.door.audit, self.moments), cards)

    # -- one entry ----------------------------------------------------------------------------------------

    def handle(self, entry: Entry) -> int:
        """Apply the effects of every alert in one entry, then acknowledge it. Returns how many alerts it applied
        (an unreadable entry, buried: 1). When some could not be applied, the others still are and the entry is
        not acknowledged: LeadNotReady if they all wait for their group's lead, else AlertsFailed (replaying the
        alerts already applied is harmless)."""
        if entry.alerts is None:
            self.stream.bury(entry, "the entry does not hold a readable delivery")
            return 1
        failed = self._apply_all(entry)
        if failed:
            if all(isinstance(e, LeadNotReady) for _, _, e in failed):
                raise failed[0][2]
            raise AlertsFailed(failed)
        self.stream.ack(entry.id)
        self.processed += len(entry.alerts)
        return len(entry.alerts)

    def _apply_all(self, entry: Entry, only: set[str] | None = None) -> list[tuple[str, Alert, Exception]]:
        """Apply the entry's alerts (those keyed in `only`, if given); the ones that failed, with why."""
        failed = []
        for key, alert in entry.keys():
            if only is not None and key not in only:
                continue
            try:
                self.apply(key, alert)
            except Exception as e:  # one alert's failure does not hold its delivery's other alerts back
                failed.append((key, alert, e))
        return failed

    def apply(self, key: str, alert: Alert) -> None:
        """One alert's effects: its incident, and its card when the incident needs one. `key` makes a replay
        of the same alert idempotent."""
        if alert.name in self.settings.intake.heartbeats:
            self.metrics.heartbeat.labels(alert.name).set_to_current_time()
            return  # the pipeline works; nothing is wrong, so no incident and no card
        started = time.perf_counter()
        obs = self.incidents.observe(key, alert)
        self.metrics.incidents.labels(obs.kind).inc()
        if obs.flapping_now:
            self.metrics.incidents.labels("flapping").inc()
        if obs.needs_card and obs.incident:
            self._card(key, alert, obs)
            self.metrics.triage_duration.labels(obs.kind).observe(time.perf_counter() - started)

    def _card(self, key: str, alert: Alert, obs: Observation) -> None:
        assert obs.incident
        current = self.incidents.get(obs.incident)
        if current is not None and current.status != alert.status:
            return  # a replayed entry another one has since superseded (it resolved, or fired again)
        lead = self.groups.lead(alert, obs.incident) if self.groups else obs.incident
        if lead != obs.incident:
            self._line(alert, obs, lead)
            return
        previous = self.cards.get(obs.incident)
        flapping = previous is not None and any(n.startswith("flapping") for n in previous.notices)
        replay = previous is not None and previous.made_from == key
        if replay:
            card = previous  # this alert was triaged before a crash: reuse, do not propose twice
        elif obs.kind == "new" or (obs.kind == "reopened" and not flapping and not obs.flapping_now):
            card = self.triage.card(alert, obs.incident, obs.count, made_from=key)
            if previous is not None:
                card.notices = previous.notices
        else:  # resolved, or a flapping reopen: only the status changes
            card = previous or self.triage.bare_card(alert, obs.incident, obs.count)
            card = card.model_copy(update={"status": alert.status, "made_from": key})
        now = datetime.now(UTC)
        card.count, card.updated_at = obs.count, now
        card.resolved_at = (alert.ends_at or now) if alert.status == "resolved" else None
        if obs.flapping_now:
            card.notices = [*card.notices, S.FLAPPING.format(
                flips=obs.flips, window=S.window_text(self.settings.webhooks.dedup_window_s))]
        grouped = bool(self.groups and self.groups.lines(alert))
        ends = alert.status == "resolved" and (grouped and self._group_resolved(alert) or not grouped and not replay)
        if ends:
            card = self.triage.withdraw_pending(card)
        self.publisher.publish(card, amend=self.groups.amend(alert) if self.groups else None)
        self._carded(card, alert)
        self._ended(card.incident_id, alert, obs, ends, grouped)
        if self.sentry and card.sentry_issue_id and card.made_from == key and obs.kind in ("new", "reopened"):
            self.sentry.upsert(card.sentry_issue_id, render_sentry_comment(card))

    def _carded(self, card: Card, alert: Alert) -> None:
        """The moment the incident's card was first posted: its time to detect, from the alert's own start."""
        now = self.incidents.now()
        if alert.status == "firing" and self.moments.mark(card.incident_id, "carded", now) and alert.starts_at:
            self.metrics.time_to_detect.labels(card.severity).observe(
                max(0.0, (now - alert.starts_at).total_seconds()))

    def _line(self, alert: Alert, obs: Observation, lead: str) -> None:
        """An alert of a group whose card another incident leads: its line changes on that card (edited under
        the card's lock, so nothing another worker did meanwhile is undone), no triage."""
        assert self.groups is not None
        if not self.groups.lines(alert):
            return  # the group closed before this replayed resolution: nothing left to change
        if self.cards.get(lead) is None:  # the lead's card is not saved yet: retried once it is
            raise LeadNotReady(f"the card of {lead}, which leads this alert's group, is not stored yet")
        ends = alert.status == "resolved" and self._group_resolved(alert)
        amend = self.groups.amend(alert)

        def change(card: Card) -> Card:
            card = amend(card.model_copy(update={"updated_at": datetime.now(UTC)}))
            return self.triage.withdraw_pending(card) if ends else card

        self.publisher.edit(lead, change)
        self._ended(lead, alert, obs, ends, grouped=True)

    def _group_resolved(self, alert: Alert) -> bool:
        return all(g.status == "resolved" for g in self.groups.lines(alert))  # type: ignore[union-attr]

    def _ended(self, card_id: str, alert: Alert, obs: Observation, ends: bool, grouped: bool) -> None:
        """After a card's last firing alert resolved: close its group (atomic: one worker does what follows,
        even on a replay), lift an "until resolved" silence, learn from the incident once."""
        if grouped and alert.status == "resolved":
            ends = self.groups.close_if_resolved(alert)  # type: ignore[union-attr]
        if not ends:
            return
        if self.silencer:
            self.silencer.lift_on_resolve(card_id)
        if self.verifier:  # its actions' verdicts now, not at their next look: what is learned below carries them
            self.verifier.watches.hurry(card_id)
            self.verifier.tick()
        if self.learn and obs.kind == "resolved":
            try:
                self.learn(self.cards.get(card_id))  # type: ignore[arg-type]
            except Exception as e:  # a lesson lost is logged; the alert's own effects are already stored
                log.error("learning_failed", incident=card_id, error=f"{type(e).__name__}: {e}")
        if obs.kind == "resolved":
            self._figures(card_id)

    def _figures(self, incident_id: str) -> None:
        """At resolution, once: the incident's times observed as metrics, its postmortem draft in the card's thread."""
        try:
            found = self.postmortems.book.of(incident_id)
            if found is not None and self.moments.mark(incident_id, "observed", self.incidents.now()):
                f, m = found[0], self.metrics
                for took, histogram in ((f.acknowledge, m.time_to_acknowledge), (f.resolve, m.time_to_resolve)):
                    if took is not None:
                        histogram.labels(f.severity).observe(took.total_seconds())
                for a in f.actions:
                    if a.approve is not None and a.executed:
                        m.time_to_approve.labels(f.severity).observe(a.approve.total_seconds())
                    if a.how:
                        m.actions_executed.labels(a.how).inc()
            self.postmortems.post(self.publisher, incident_id)
        except Exception as e:  # the figures and the draft are lost, logged; the resolution itself is stored
            log.error("postmortem_failed", incident=incident_id, error=f"{type(e).__name__}: {e}")

    # -- the loop -----------------------------------------------------------------------------------------

    def _process(self, entries: list[Entry]) -> int:
        done = 0
        for entry in entries:
            try:
                done += self.handle(entry)
            except LeadNotReady as e:  # expected while the lead's triage runs: retried after reclaim_idle_s,
                self.stream.not_yet(self.name, entry.id)  # without counting as a failure
                log.info("group_line_waits", worker=self.name, entry=entry.id, why=str(e))
            except Exception as e:  # not acknowledged: reclaimed and retried, up to max_attempts
                log.error("alert_entry_failed", worker=self.name, entry=entry.id, error=f"{type(e).__name__}: {e}")
        return done

    def reclaim(self) -> int:
        """Take over entries another consumer left pending too long; give up on those retried too often."""
        entries = self.stream.reclaim(self.name, self.settings.intake.reclaim_idle_s)
        alive = []
        for entry in entries:
            if self.stream.attempts(entry.id) > self.settings.intake.max_attempts:
                self._give_up(entry)
            else:
                alive.append(entry)
        if alive:
            log.warning("alert_entries_reclaimed", worker=self.name, count=len(alive))
        return self._process(alive)

    def _give_up(self, entry: Entry) -> None:
        """An entry that failed max_attempts times goes to the dead-letter stream, after one last try of its
        alerts: a lead among those that still fail gives its group up (if it never got its card), so the alerts
        waiting on it, in this delivery or another, take the lead instead of waiting for a card that never
        comes."""
        failed = self._apply_all(entry) if entry.alerts is not None else []
        broken = [(key, alert, e) for key, alert, e in failed if not isinstance(e, LeadNotReady)]
        for _, alert, _ in broken:
            self._release(alert)
        waiting = {key for key, _, e in failed if isinstance(e, LeadNotReady)}
        if broken and waiting:  # not the broken ones again: they would take the lead back
            failed = broken + self._apply_all(entry, waiting)
        reason = f"failed {self.settings.intake.max_attempts} times"
        if failed:
            reason += ": " + str(AlertsFailed(failed))
        self.stream.bury(entry, reason)

    def _release(self, alert: Alert) -> None:
        """The alert's incident no longer leads its group if it never got its card: the next alert will."""
        if self.groups is None:
            return
        incident = self.incidents.by_fingerprint(alert.fingerprint)
        if incident is not None and self.cards.get(incident.id) is None:
            self.groups.release(alert, incident.id)

    def step(self, block_ms: int | None = 1000, count: int = 50) -> int:
        if self.silencer:
            self.silencer.end_due()  # silences that reached their end: their cards say so
        if self.expiry:
            self.expiry.sweep()  # actions that expired unapproved: their cards and messages lose their buttons
        if self.verifier:
            self.verifier.tick()  # executed actions: did they fix it? The verdict on the card and in its thread
        if self.reporter:
            self.reporter.tick()  # the outcome report of the period just ended, when `report.every` is set
        return self.reclaim() + self._process(self.stream.read(self.name, count=count, block_ms=block_ms))

    def run(self, stop: threading.Event, block_ms: int = 500) -> None:
        """Read and triage until `stop`; Redis going away or coming back empty is survived, not fatal."""
        log.info("worker_started", worker=self.name)
        failures, group_ready = 0, False
        while not stop.is_set():
            try:
                if not group_ready:
                    self.stream.ensure_group()  # again after a Redis restart that lost the group
                    group_ready = True
                self.step(block_ms=block_ms)
                failures = 0
            except redis.ResponseError as e:
                if "NOGROUP" in str(e):
                    log.warning("consumer_group_missing", worker=self.name, action="recreating it")
                    group_ready = False
                    continue
                failures += 1
                log.error("worker_step_failed", worker=self.name, error=f"{type(e).__name__}: {e}")
                stop.wait(backoff_s(failures))
            except Exception as e:  # Redis down: keep trying, the webhook answers 503 meanwhile
                failures += 1
                log.error("worker_step_failed", worker=self.name, error=f"{type(e).__name__}: {e}",
                          retry_in_s=backoff_s(failures))
                stop.wait(backoff_s(failures))
        log.info("worker_stopped", worker=self.name)


def backoff_s(failures: int, first: float = 0.5, cap: float = 10.0) -> float:
    """How long to wait after the n-th failure in a row: doubling from `first`, at most `cap`."""
    return min(cap, first * 2 ** max(failures - 1, 0))
