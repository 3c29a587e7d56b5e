"""Acknowledge, silence and unsilence an incident's alerts, from its card's buttons or a chat command.

A silence is Alertmanager's own (API v2) over exact matchers: the labels every alert of the card's group
shares, or the one alert's labels. The policy's `silences` section says who may, for how long at most, and
which alerts never; every attempt is audited with its incident. The card shows who acknowledged or silenced
and until when, and is edited again when the silence ends: at its end time (`end_due`, run by the triage
workers), when a person unsilences, or when the incident resolves under an "until resolved" silence.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from pydantic import BaseModel

from bot.cards.model import Card, Silenced, Stamp
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.guard.audit import AuditRecord, AuditUnavailable
from bot.guard.door import Door
from tools import silences
from tools.base import BackendError
from tools.context import ToolContext

log = structlog.get_logger(__name__)
WATCH_EVERY = timedelta(seconds=15)  # how often an "until resolved" silence asks whether its alerts still fire


class Outcome(BaseModel):
    ok: bool
    message: str
    card: Card | None = None


def matchers(card: Card) -> dict[str, str]:
    """What a silence of this card matches: its group's shared labels, or its one alert's."""
    return dict(card.common_labels) if len(card.group) > 1 and card.common_labels else dict(card.labels)


def _hm(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


class Silencer:
    def __init__(self, door: Door, cards: CardStore, publisher: Publisher):
        self.door, self.cards, self.publisher = door, cards, publisher
        self.engine, self.ctx = door.gate.engine, door.ctx
        self._due = f"{cards.prefix}silences:due"
        self._watch = f"{cards.prefix}silences:watch"  # "until resolved" ones: next time to ask Alertmanager

    # -- what people do --------------------------------------------------------------------------------

    def acknowledge(self, incident_id: str, identity: str) -> Outcome:
        card, refusal = self._card_for(incident_id, identity, None)
        if card is None:
            return self._refused("acknowledge", incident_id, identity, refusal)
        now = self.ctx.now()
        edited = self.publisher.edit(incident_id, lambda c: c.model_copy(
            update={"acknowledged": c.acknowledged or Stamp(by=identity, at=now)}))
        self._audit("acknowledge", identity, incident_id, "success", f"acknowledged {incident_id}")
        return Outcome(ok=True, message=f"{incident_id} acknowledged by {identity}", card=edited)

    def silence(self, incident_id: str, identity: str, duration: timedelta | None) -> Outcome:
        """Silence for `duration`, or until the incident resolves (None: at most the policy's longest)."""
        until_resolved = duration is None
        length = self.engine.longest_silence() if duration is None else duration
        card, refusal = self._card_for(incident_id, identity, length)
        if card is None:
            return self._refused("silence", incident_id, identity, refusal)
        if card.silence and not card.silence.ended:
            return Outcome(ok=False, message=f"{incident_id} is already silenced by {card.silence.by} until "
                           f"{_hm(card.silence.until)}; unsilence it first")
        now, labels = self.ctx.now(), matchers(card)
        try:
            silence_id = silences.create(self._at(card), labels, now, now + length, identity,
                                         f"opsbot: {incident_id} ({card.title[:120]}), from its card")
        except BackendError as e:
            self._audit("silence", identity, incident_id, "error", str(e))
            return Outcome(ok=False, message=f"the silence was not made: {e}")
        mark = Silenced(id=silence_id, by=identity, at=now, until=now + length, until_resolved=until_resolved,
                        matchers=labels)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        self._audit("silence", identity, incident_id, "success", f"silence {silence_id} until {_hm(mark.until)}"
                    f"{' or resolution' if until_resolved else ''}: {shown}")  # it exists now, whatever follows
        self.cards.client.zadd(self._due, {incident_id: mark.until.timestamp()})
        if until_resolved:
            self.cards.client.zadd(self._watch, {incident_id: (now + WATCH_EVERY).timestamp()})
        edited = self.publisher.edit(incident_id, lambda c: c.model_copy(update={"silence": mark}))
        when = f"until it resolves (at most {_hm(mark.until)})" if until_resolved else f"until {_hm(mark.until)}"
        return Outcome(ok=True, message=f"{incident_id} silenced in Alertmanager {when} by {identity}; "
                       f"matching {shown}", card=edited)

    def unsilence(self, incident_id: str, identity: str) -> Outcome:
        card, refusal = self._card_for(incident_id, identity, None)
        if card is None:
            return self._refused("unsilence", incident_id, identity, refusal)
        if card.silence is None or card.silence.ended:
            return Outcome(ok=False, message=f"{incident_id} is not silenced")
        edited, error = self._end(card, identity)
        if error:
            return Outcome(ok=False, message=f"the silence was not lifted: {error}")
        return Outcome(ok=True, message=f"{incident_id} unsilenced by {identity}", card=edited)

    # -- what time and resolution do -------------------------------------------------------------------

    def end_due(self) -> int:
        """Cards whose silence reached its end are edited to say so; an "until resolved" silence whose alerts
        no longer fire in Alertmanager is lifted (Alertmanager mutes the resolved notification too, so opsbot
        asks). Each entry is taken by one process."""
        now, ended = self.ctx.now(), 0
        for incident_id in self._take(self._due, now):
            card = self.cards.get(incident_id)
            if card and card.silence and not card.silence.ended:
                try:
                    self._mark_ended(incident_id, card.silence.until, "opsbot:clock")
                    ended += 1
                except Exception as e:  # Redis or a platform failed: put it back, try again next step
                    self.cards.client.zadd(self._due, {incident_id: card.silence.until.timestamp()})
                    log.warning("silence_end_not_shown", incident=incident_id, error=f"{type(e).__name__}: {e}")
        for incident_id in self._take(self._watch, now):
            card = self.cards.get(incident_id)
            if not (card and card.silence and not card.silence.ended):
                continue
            try:
                if silences.firing(self._at(card), card.silence.matchers or matchers(card)):
                    self.cards.client.zadd(self._watch, {incident_id: (now + WATCH_EVERY).timestamp()})
                elif self.lift_on_resolve(incident_id):
                    ended += 1
            except Exception as e:  # Alertmanager, Redis or a platform failed: ask again later
                self.cards.client.zadd(self._watch, {incident_id: (now + WATCH_EVERY).timestamp()})
                log.warning("silence_watch_failed", incident=incident_id, error=f"{type(e).__name__}: {e}")
        return ended

    def lift_on_resolve(self, incident_id: str) -> bool:
        """The incident (or its alerts in Alertmanager) resolved: an "until resolved" silence is expired there
        and the card says so; True if one was lifted."""
        card = self.cards.get(incident_id)
        if not (card and card.silence and card.silence.until_resolved and not card.silence.ended):
            return False
        _, error = self._end(card, "opsbot:triage")
        if error:
            log.error("silence_not_lifted", incident=incident_id, error=error)
        return error is None

    def _take(self, key: str, now: datetime) -> list[str]:
        raws = self.cards.client.zrangebyscore(key, "-inf", now.timestamp())
        return [raw.decode() for raw in raws if self.cards.client.zrem(key, raw)]  # zrem: 0 when another took it

    # -- helpers ---------------------------------------------------------------------------------------

    def _at(self, card: Card) -> ToolContext:
        """The context of the card's cluster, whose Alertmanager holds its alerts' silences; a cluster the settings
        do not name (its alert came through the install's Alertmanager) is the install's."""
        try:
            return self.ctx.on_cluster(card.cluster)
        except LookupError:
            return self.ctx

    def _card_for(self, incident_id: str, identity: str, length: timedelta | None) -> tuple[Card | None, str]:
        card = self.cards.get(incident_id)
        if card is None:
            return None, f"I know no card of incident {incident_id!r}"
        if card.source != "alertmanager":
            return None, "only Alertmanager alerts are silenced here; mute a Sentry issue in Sentry"
        if card.status == "resolved" and length is not None:
            return None, f"{incident_id} is resolved: there is nothing to silence"
        refusal = self.engine.may_silence(identity, matchers(card), card.severity, length)  # type: ignore[arg-type]
        return (None, refusal) if refusal else (card, "")

    def _end(self, card: Card, identity: str) -> tuple[Card | None, str | None]:
        assert card.silence is not None
        try:
            silences.expire(self._at(card), card.silence.id)
        except BackendError as e:
            if not self._gone(card):  # expired already, or deleted: it has ended all the same
                self._audit("unsilence", identity, card.incident_id, "error", str(e))
                return None, str(e)
        self.cards.client.zrem(self._due, card.incident_id)
        self.cards.client.zrem(self._watch, card.incident_id)
        return self._mark_ended(card.incident_id, self.ctx.now(), identity), None

    def _gone(self, card: Card) -> bool:
        """Whether Alertmanager no longer holds the card's silence active (expired, or unknown to it)."""
        assert card.silence is not None
        try:
            return silences.state(self._at(card), card.silence.id) == "expired"
        except BackendError as e:
            return "HTTP 404" in e.reason

    def _mark_ended(self, incident_id: str, at: datetime, identity: str) -> Card | None:
        def ended(c: Card) -> Card:
            if c.silence is None or c.silence.ended:
                return c
            return c.model_copy(update={"silence": c.silence.model_copy(update={"ended": at, "ended_by": identity})})

        edited = self.publisher.edit(incident_id, ended)
        self._audit("unsilence", identity, incident_id, "success", f"silence ended {_hm(at)}")
        return edited

    def _refused(self, verb: str, incident_id: str, identity: str, reason: str) -> Outcome:
        self._audit(verb, identity, incident_id, "refused", reason)
        return Outcome(ok=False, message=reason)

    def _audit(self, kind: str, identity: str, incident_id: str, status: str, summary: str) -> None:
        try:
            self.door.audit.append(AuditRecord(at=self.ctx.now(), kind=kind, identity=identity, action="am_silence",
                                               target=incident_id, status=status, summary=summary,
                                               incident=incident_id))
        except AuditUnavailable as e:  # logged by the audit log too; what Alertmanager holds stands
            log.error("silence_audit_failed", incident=incident_id, error=f"{type(e).__name__}: {e}")

