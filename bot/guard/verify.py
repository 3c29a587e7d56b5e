"""After an action ran: did it fix it? Decided on ticks of the served process from the target's state, the incident's
alert and the deadline, never by waiting.

Each tick looks at the watches that are due (bot/guard/watch.py keeps them in Redis, so a verification in flight
is finished by the next process): the deployment's readiness, its pods' statuses and restarts, and the incident
card's alert. Fixed as soon as the target is healthy and the alert resolved (or the action had no incident);
at the policy's `verify.window` a target still unhealthy is "not fixed" (or "worse" than before the action), a
healthy one whose alert still fires is "not fixed" too. The verdict goes on the action's line of the card and
in its thread, is what outcome learning records (knowledge/outcomes.py), and when the target is not healthy the
undo (the previous replica count, the previous revision) is proposed through the door: a pending action with
its own Approve / Deny, never run by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from bot.cards import strings as S
from bot.cards.model import Card, CardAction
from bot.cards.poster import Publisher
from bot.cards.store import CardStore
from bot.guard.door import Caller, Door
from bot.guard.watch import Snapshot, Unreadable, Watch
from bot.intake.moments import Moments
from bot.metrics import Metrics
from knowledge.outcomes import Outcomes
from tools.base import Status

log = structlog.get_logger(__name__)

PROPOSER = "opsbot:triage"  # the automation identity policies already name: it may propose, never approve


def kind_of(card: Card) -> str:
    """What outcome learning files an incident's actions under: its playbook, else its alert's name."""
    return card.playbook.name if card.playbook else card.title.split(":")[0]


def knowledge_id(card: Card) -> str:
    """Incident ids repeat across Redis prefixes (inc-1…); with the start time they name one occurrence: the id
    knowledge and outcome learning file the incident under."""
    return f"{card.incident_id}@{int((card.started_at or card.updated_at).timestamp())}"


def undo_of(watch: Watch, before: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """What puts the target back as it was before the action: the previous replica count or revision. A restart
    or a pod deletion changed no spec: nothing to undo."""
    if watch.tool == "k8s_scale" and isinstance(before.get("replicas"), int):
        return "k8s_scale", {"namespace": watch.namespace, "deployment": watch.deployment,
                             "replicas": before["replicas"]}
    if watch.tool == "k8s_rollback" and isinstance(before.get("revision"), int):
        return "k8s_rollback", {"namespace": watch.namespace, "deployment": watch.deployment,
                                "to_revision": before["revision"]}
    return None


def judge(watch: Watch, now_state: Snapshot | None, why: str | None, alert: Card | None,
          now: datetime) -> tuple[str, bool] | None:
    """(the verdict line, whether the target needs undoing), or None: keep watching."""
    after = S.minutes((now - watch.executed_at).total_seconds())
    over = now >= watch.deadline
    if now_state is None:
        return (S.NOT_VERIFIED.format(why=why, after=after, verb=watch.verb), False) if over else None
    ok = now_state.healthy and not now_state.restarted_since(watch.last)
    firing = alert is not None and alert.status == "firing"
    if ok and not firing:
        resolved = S.ALERT_RESOLVED.format(at=alert.resolved_at) if alert and alert.resolved_at else ""
        return S.FIXED.format(state=now_state.words(), after=after, verb=watch.verb) + resolved, False
    if not over:
        return None
    if ok and alert is not None and alert.source == "sentry":  # its issue stays open until a person resolves it
        return S.SENTRY_OPEN.format(state=now_state.words(), after=after, verb=watch.verb), False
    if ok:
        return S.NOT_FIXED_ALERT.format(state=now_state.words(), after=after, verb=watch.verb), False
    b = watch.before
    if b is not None and now_state.ready < b.ready:
        return S.WORSE.format(state=now_state.words(), after=after, verb=watch.verb, before=b.words()), True
    still = S.STILL if b is not None and b.worst is not None and b.worst == now_state.worst else ""
    return S.NOT_FIXED.format(still=still, state=now_state.words(), after=after, verb=watch.verb), True


def with_verdict(card: Card, action_id: str, verdict: str, undo: CardAction | None) -> Card:
    """`card` with the verdict on its (executed) action's line and the undo, if proposed, as a new action."""
    actions = [a.model_copy(update={"verdict": verdict, "status": "executed"}) if a.action_id == action_id else a
               for a in card.actions]  # only an executed action is watched, whatever the card showed before
    if undo is not None and not any(a.action_id == undo.action_id for a in actions):
        actions.append(undo)
    return card.model_copy(update={"actions": actions})


class Verifier:
    def __init__(self, door: Door, cards: CardStore, publisher: Publisher, outcomes: Outcomes | None = None,
                 metrics: Metrics | None = None):
        self.door, self.cards, self.publisher, self.outcomes, self.metrics = door, cards, publisher, outcomes, metrics
        self.watches = door.gate.watches
        self.moments = Moments(cards.client, cards.prefix)

    def tick(self) -> list[str]:
        """Look at every watch that is due; the ids of the actions whose verdict was shown on this tick."""
        now = self.door.ctx.now()
        shown = []
        for action_id in self.watches.claim_due(now, self.door.gate.engine.policy.verify.every):
            try:
                if self._look(action_id, now):
                    shown.append(action_id)
            except Exception as e:  # Redis or a platform failed: the claim lapses and the next tick tries again
                log.warning("verification_failed", action=action_id, error=f"{type(e).__name__}: {e}"[:300])
        return shown

    def _look(self, action_id: str, now: datetime) -> bool:
        watch = self.watches.get(action_id)
        if watch is None:
            self.watches.done(action_id)
            return False
        card = self.cards.get(watch.incident) if watch.incident else None
        if watch.verdict is None:
            try:
                state, why = self.door.look(watch.namespace, watch.deployment, watch.cluster), None
            except Unreadable as e:
                state, why = None, str(e)
            found = judge(watch, state, why, card, now)
            if found is None:
                self.watches.save(watch.model_copy(update={"last": state or watch.last}))
                return False
            verdict, undo = found
            fixed = None if state is None or verdict.startswith("not verified") else verdict.startswith("fixed")
            watch = watch.model_copy(update={"verdict": verdict, "fixed": fixed, "last": state or watch.last})
            self.watches.save(watch)  # decided once: a retry after a failure below shows the same verdict
            self._learn(watch, card)
            self._figures(watch, card, now)
            self._show(watch, card, self._undo(watch) if undo else None)
        else:
            self._show(watch, card, None)
        self.watches.done(action_id)
        log.info("action_verified", action=action_id, incident=watch.incident, verdict=watch.verdict)
        return True

    def _learn(self, watch: Watch, card: Card | None) -> None:
        """The verdict is the outcome learning records, once per action, filed with its incident (feedback that it
        was a false alarm or a wrong cause keeps it apart); an unverified one teaches nothing."""
        if self.outcomes is None or card is None or watch.fixed is None:
            return
        counted = self.outcomes.record_once(kind_of(card), watch.tool, watch.action_id, watch.fixed,
                                            knowledge_id(card))
        if counted is not None and not watch.fixed:  # "none failed in the last 24 h" of a policy's track record
            self.outcomes.failed(kind_of(card), watch.tool, self.door.ctx.now())

    def _figures(self, watch: Watch, card: Card | None, now: datetime) -> None:
        """The verdict's moment on its incident (bot/intake/figures.py), and its metrics, once per action."""
        assert watch.verdict is not None
        if watch.incident and not self.moments.mark(watch.incident, f"verdict:{watch.action_id}", now,
                                                    watch.verdict, watch.fixed):
            return
        if self.metrics is None:
            return
        action = self.door.gate.store.get(watch.action_id)
        how = "approved" if action is not None and action.approvals else "automatic"
        self.metrics.verdicts.labels(watch.verdict.split(":", 1)[0], how).inc()
        if watch.fixed:
            self.metrics.time_to_fix.labels(card.severity if card else "none").observe(
                (now - watch.executed_at).total_seconds())

    def _undo(self, watch: Watch) -> CardAction | str:
        """Propose the undo through the door (the policy decides as for any action); its card line, or why not."""
        action = self.door.gate.store.get(watch.action_id)
        found = undo_of(watch, action.preview.current) if action else None
        if action is None or found is None:
            return S.UNDO_NOT_PROPOSED.format(why=f"a {watch.verb} changes nothing that can be put back")
        tool, args = found
        caller = Caller(identity=PROPOSER, via="verify", incident=watch.incident, severity=action.decision.severity,
                        cluster=watch.cluster)
        args = self.door.on_cluster(tool, args, caller)
        r = self.door.run(tool, args, caller)
        data = r.data if isinstance(r.data, dict) else {}
        if r.status != Status.approval_required:
            return S.UNDO_NOT_PROPOSED.format(why=r.error or r.notice or r.status.value)
        preview = data.get("preview") or {}
        return CardAction(tool=tool, summary=preview.get("summary") or r.invocation, args=args,
                          action_id=data.get("action_id"), reason=data.get("reason") or "",
                          why=S.UNDO_WHY.format(id=watch.action_id), expires_at=data.get("expires_at"))

    def _show(self, watch: Watch, card: Card | None, undo: CardAction | str | None) -> None:
        """The verdict on the action's line everywhere the action is shown, and once in the card's thread."""
        assert watch.verdict is not None
        verdict, proposed = watch.verdict, undo if isinstance(undo, CardAction) else None
        if card is not None and any(a.action_id == watch.action_id for a in card.actions):
            self.publisher.edit(card.incident_id, lambda c: with_verdict(c, watch.action_id, verdict, proposed))
            lines = [S.VERDICT_POST.format(id=watch.action_id, summary=watch.summary, verdict=verdict)]
            if proposed is not None:
                lines.append(S.UNDO_PROPOSED.format(id=proposed.action_id, summary=proposed.summary))
            elif isinstance(undo, str):
                lines.append(undo)
            if self.cards.client.set(f"{self.cards.prefix}verify:said:{watch.action_id}", 1, nx=True,
                                     ex=self.watches.keep):
                self.publisher.reply(card.incident_id, lambda _platform: "\n".join(lines))
        shown = self.publisher.edit_shown(watch.action_id, lambda c: with_verdict(c, watch.action_id, verdict,
                                                                                  proposed))
        if shown is not None and proposed is not None and proposed.action_id:
            for ref in self.cards.shown(watch.action_id)[1]:
                self.cards.keep_shown(proposed.action_id, shown, ref)  # its expiry edits those messages too
