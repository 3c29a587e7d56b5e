"""The conversation core every frontend shares: a question, a command, a button click in; replies out.

Frontends (Slack, Telegram, console) only translate platform events into these three calls and render the
replies; nothing about policy, tools or the agent lives in a frontend. Every tool runs through the door.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

import redis
import structlog
from pydantic import BaseModel

from bot import messages
from bot.cards.model import Card, CardAction
from bot.chat.agent import Agent
from bot.chat.card_thread import filled, marked, subject_of
from bot.chat.cluster_words import on_cluster
from bot.chat.limits import QuestionLimits
from bot.chat.readable import result_text
from bot.guard.approvals import ApprovalsUnavailable, PendingAction, proposer
from bot.guard.audit import AuditUnavailable
from bot.guard.door import Caller, Door
from bot.guard.feedback import FeedbackDesk
from bot.guard.silencer import Silencer
from bot.intake.timeline import Timelines, list_text, story_text
from knowledge.feedback import mark_of
from policies import durations
from policies.durations import parse_duration
from tools.base import Status, ToolResult
from tools.timerange import parse_point

log = structlog.get_logger(__name__)
Progress = Callable[[str], None]
Troubleshooter = Callable[[str, str | None, Caller, Progress], "Reply"]
VERBS = ("help", "status", "incident", "incidents", "audit", "troubleshoot", "logs", "pods", "events", "changes",
         "scale",
         "restart", "rollback", "policy", "approve", "deny", "ack", "silence", "unsilence", "feedback")
SINCE_WORDS = ("since", "last", "for", "past", "from", "yesterday", "today")  # a time, not a namespace
_CARD_STATES = {"pending": "pending", "claimed": "approved", "executed": "executed", "failed": "failed",
                "refused": "error", "denied": "denied", "expired": "expired"}


def _quiet(_: str) -> None:
    return None


class Reply(BaseModel):
    """What opsbot answers: text for the thread, maybe a card to post, and whether only the asker sees it."""

    text: str
    card: Card | None = None
    private: bool = False


class ClickResult(BaseModel):
    """A button decision: a private sentence for the clicker, and the card to show everyone if it changed."""

    reply: Reply
    updated: Card | None = None


def action_card(action: PendingAction) -> Card:
    """The card of one pending action, as chat shows it: what would change, why, who decided, the outcome."""
    decided = [*action.approvals, *([action.decided_by] if action.decided_by and action.decided_by
                                    not in action.approvals else [])]
    return Card(
        incident_id=action.incident or f"action-{action.id}",
        title=action.preview.summary,
        severity=action.decision.severity,
        status="firing",
        source="chat",
        failing=f"{proposer(action)}; {action.decision.reason}",
        actions=[CardAction(tool=action.tool, summary=action.preview.summary, action_id=action.id,
                            status=_CARD_STATES[action.state], reason=action.decision.reason,
                            decided_by=decided, outcome=action.outcome, expires_at=action.expires_at,
                            automatic=action.decision.automatic)],
        updated_at=action.created_at,
    )


class Conversation:
    def __init__(self, door: Door, agent: Agent, namespaces: list[str],
                 troubleshoot: Troubleshooter | None = None, timelines: Timelines | None = None,
                 silencer: Silencer | None = None, limits: QuestionLimits | None = None,
                 feedback: FeedbackDesk | None = None):
        self.door, self.agent, self.namespaces, self._troubleshoot = door, agent, namespaces, troubleshoot
        self.timelines, self.silencer, self.limits, self.feedback = timelines, silencer, limits, feedback

    # -- the three entry points ------------------------------------------------------------------------

    def ask(self, text: str, thread: str, identity: str, progress: Progress = _quiet,
            incident: str | None = None) -> Reply:
        """A mention or a DM: a command if it starts with one, otherwise a question for the agent. `incident`:
        it was said in that incident's alert-card thread, so it is about the incident."""
        words = text.strip().split()
        if words and words[0].lower().lstrip("/") in VERBS:
            return self.command(text, thread, identity, progress, incident)
        try:
            refusal = self.limits.take(identity, thread) if self.limits else None
            if refusal:
                return Reply(text=refusal, private=True)
            card = self._card(incident)  # the incident is the subject; its severity tier is not lent to the model
            caller = Caller(identity=identity, via="chat", incident=card and card.incident_id, cluster=card and card.cluster)
            progress("thinking…")
            answer = self.agent.ask(text, thread, caller, progress, subject_of(card) if card else None)
        except redis.RedisError as e:
            log.warning("question_without_redis", error=type(e).__name__)
            return Reply(text=messages.QUESTION_WITHOUT_REDIS, private=True)
        used = "".join(f"\n• `{c.invocation}` → {c.status.value}" for c in answer.calls)
        reply = answer.text + (f"\n\nTools used:{used}" if used else "")
        pending = None
        if answer.pending:
            action = self.door.gate.store.get(answer.pending[0])
            pending = action_card(action) if action else None
        return Reply(text=reply, card=pending)

    def command(self, text: str, thread: str, identity: str, progress: Progress = _quiet,
                incident: str | None = None) -> Reply:
        """A slash command or a command typed in a message: `scale checkout to 6`, `logs payments-api`. In an
        alert card's thread (`incident`), a command without its object acts on the incident's."""
        try:
            words = shlex.split(text.strip().lstrip("/"))
        except ValueError:
            words = text.strip().lstrip("/").split()
        if words and words[0] == "opsbot":
            words = words[1:]
        if not words or words[0].lower() not in VERBS:
            return Reply(text=messages.UNKNOWN_COMMAND.format(got=" ".join(words[:2])), private=True)
        verb, args = words[0].lower(), words[1:]
        card = self._card(incident)
        given = filled(verb, args, card) if card is not None else args
        # a command the thread filled in acts on the firing incident, under its severity tier; one that names its
        # own object is an ordinary command; in a card's thread both go to the card's cluster
        tied = card is not None and given != args and card.status == "firing"
        args = given
        caller = Caller(identity=identity, via="chat", incident=card.incident_id if card and tied else None,
                        cluster=card.cluster if card else None,
                        severity=card.severity if card and tied else None)  # type: ignore[arg-type]
        handler = getattr(self, f"_cmd_{verb}")
        return handler(args, caller, progress)

    def click(self, action_id: str, identity: str, approve: bool, on_its_card: bool = True) -> ClickResult:
        """An Approve/Deny button: authorised server-side; a refusal is private and leaves the card as it was.

        `on_its_card` says whether the clicked message shows this action's button (the frontend checks the
        message as the platform reports it). A pending action is decided only from its own card; a click
        elsewhere can at most learn, privately, that the action was already decided, and edits nothing."""
        if not on_its_card:
            try:
                action = self.door.gate.store.get(action_id)
            except ApprovalsUnavailable as e:
                return ClickResult(reply=Reply(text=str(e), private=True), updated=None)
            if action is None or action.state == "pending":
                return ClickResult(reply=Reply(text=messages.NOT_THIS_CARD, private=True), updated=None)
        verdict = self.door.gate.decide(action_id, identity, approve)
        card = action_card(verdict.action) if verdict.action else None
        quiet = ("pending", "claimed", "executed", "denied")  # a refusal beside a running decision edits nothing
        if not on_its_card or (not verdict.ok and (verdict.action is None or verdict.action.state in quiet)):
            return ClickResult(reply=Reply(text=verdict.message, private=True), updated=None)
        return ClickResult(reply=Reply(text=verdict.message, private=not verdict.ok), updated=card)

    def control(self, verb: str, incident_id: str, identity: str, note: str = "") -> Reply:
        """An alert card's on-call button or command: ack, silence:1h|4h|<duration>|resolved, unsilence, and
        the feedback marks fb:right_cause|wrong_cause|false_alarm|not_actionable (with an optional note)."""
        if self.timelines is not None and self.timelines.groups is not None:
            incident_id = self.timelines.groups.card_of(incident_id)  # a group's line: its card is the lead's
        if verb.startswith("fb:"):
            mark = mark_of(verb[3:])
            if self.feedback is None or mark is None:
                return Reply(text=messages.NO_FEEDBACK if mark else messages.USAGE["feedback"], private=True)
            out = self.feedback.mark(incident_id, identity, mark, note)
            return Reply(text=out.message, private=not out.ok)
        if self.silencer is None:
            return Reply(text=messages.NO_SILENCER, private=True)
        if verb == "ack":
            out = self.silencer.acknowledge(incident_id, identity)
        elif verb == "unsilence":
            out = self.silencer.unsilence(incident_id, identity)
        else:
            length = verb.partition(":")[2] or "1h"
            try:
                duration = None if length == "resolved" else parse_duration(length)
            except ValueError:
                return Reply(text=messages.USAGE["silence"], private=True)
            if duration is not None and duration.total_seconds() <= 0:
                return Reply(text=messages.USAGE["silence"], private=True)
            out = self.silencer.silence(incident_id, identity, duration)
        return Reply(text=out.message, private=not out.ok)

    # -- commands ----------------------------------------------------------------------------------------

    def _run(self, name: str, args: dict[str, Any], caller: Caller, progress: Progress, what: str) -> ToolResult:
        progress(what)
        return self.door.run(name, args, caller)

    def _cmd_help(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        return Reply(text=messages.HELP, private=True)

    def _cmd_status(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        alerts = self._run("prom_alerts", {"state": "firing"}, caller, progress, "checking alerts…")
        pending = self.door.gate.store.pending()
        lines = [result_text(alerts, limit=12), f"{len(pending)} action(s) waiting for approval"
                 + (": " + ", ".join(f"#{p}" for p in pending) if pending else "")]
        return Reply(text="\n\n".join(lines))

    def _cmd_incident(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if self.timelines is None:
            return Reply(text="incidents are kept by `opsbot serve`, whose Redis this chat is not given", private=True)
        try:
            if not args:
                return Reply(text="The newest incidents:\n" + list_text(self.timelines.recent(10)))
            story = self.timelines.story(args[0].lstrip("#"))
        except (redis.RedisError, AuditUnavailable):
            return Reply(text="I could not read the incidents: Redis is unreachable", private=True)
        if story is None:
            return Reply(text=f"I know no incident {args[0]!r}; `incident` lists the newest", private=True)
        return Reply(text=story_text(story))

    def _cmd_incidents(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        alerts = self._run("prom_alerts", {"state": "all"}, caller, progress, "checking alerts…")
        return Reply(text="What is firing or about to, as Alertmanager and Prometheus see it:\n"
                          + result_text(alerts, limit=40))

    def _cmd_audit(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        since = parse_point(args[0] if args else "12h", self.door.ctx.now())
        records = self.door.audit.query(since=since)[-25:]
        if not records:
            return Reply(text=f"nothing in the audit trail since {since:%Y-%m-%d %H:%M} UTC")
        return Reply(text="\n".join(f"{r.at:%H:%M:%S} {r.identity} {r.kind} {r.status}: {r.summary}"
                                    for r in records))

    def _cmd_troubleshoot(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if not args:
            return Reply(text=messages.USAGE["troubleshoot"], private=True)
        if self._troubleshoot is None:
            return Reply(text="troubleshooting needs the knowledge store, which is not configured", private=True)
        return self._troubleshoot(*self._split(args[0]), on_cluster(caller, args[1:]), progress)

    def _cmd_logs(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if not args:
            return Reply(text=messages.USAGE["logs"], private=True)
        service, namespace = self._split(args[0])
        # the rest is the time, as people write it: 2h, since 10m, last 30m, --since 10m, for 1h, since 10:00
        query: dict[str, Any] = {"service": service, "since": " ".join(args[1:]) or "last 30m"}
        if namespace:
            query["namespace"] = namespace
        return Reply(text=result_text(self._run("logs_search", query, caller, progress, "reading logs…")))

    def _cmd_pods(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        ns = args[0] if args else self.namespaces[0]
        return Reply(text=result_text(self._run("k8s_list", {"namespace": ns}, caller, progress,
                                                "checking pods…")))

    def _cmd_events(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        ns = args[0] if args else self.namespaces[0]
        return Reply(text=result_text(self._run("k8s_events", {"namespace": ns, "limit": 15}, caller, progress,
                                                "reading events…")))

    def _cmd_changes(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        # a namespace first unless the first word is already the time: changes shop 2h, changes since 10:00
        named = bool(args) and not durations.is_duration(args[0]) and args[0].lower() not in SINCE_WORDS
        if named and not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", args[0]):
            return Reply(text=messages.USAGE["changes"], private=True)
        ns = args[0] if named else self.namespaces[0]
        since = " ".join(args[1:] if named else args) or "6h"
        return Reply(text=result_text(self._run("k8s_changes", {"namespace": ns, "since": since}, caller, progress,
                                                "reading what changed…")))

    def _cmd_scale(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        words = [w for w in args if w.lower() != "to"]
        if len(words) != 2 or not re.fullmatch(r"-?\d+", words[1]):
            return Reply(text=messages.USAGE["scale"], private=True)
        return self._mutate("k8s_scale", words[0], {"replicas": int(words[1])}, caller, progress)

    def _cmd_restart(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if len(args) != 1:
            return Reply(text=messages.USAGE["restart"], private=True)
        return self._mutate("k8s_rollout_restart", args[0], {}, caller, progress)

    def _cmd_rollback(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if len(args) != 1:
            return Reply(text=messages.USAGE["rollback"], private=True)
        return self._mutate("k8s_rollback", args[0], {}, caller, progress)

    def _cmd_policy(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if not args or args[0] != "whatcan":
            return Reply(text=messages.USAGE["policy"], private=True)
        who = args[1] if len(args) > 1 else caller.identity
        gate = self.door.gate
        return Reply(text="\n".join(gate.engine.whatcan(who, gate.pause.why(gate.ctx.settings))), private=True)

    def _cmd_ack(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if len(args) != 1:
            return Reply(text=messages.USAGE["ack"], private=True)
        return self.control("ack", args[0].lstrip("#"), caller.identity)

    def _cmd_silence(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if len(args) not in (1, 2):
            return Reply(text=messages.USAGE["silence"], private=True)
        return self.control(f"silence:{args[1] if len(args) == 2 else '1h'}", args[0].lstrip("#"), caller.identity)

    def _cmd_unsilence(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        if len(args) != 1:
            return Reply(text=messages.USAGE["unsilence"], private=True)
        return self.control("unsilence", args[0].lstrip("#"), caller.identity)

    def _cmd_feedback(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        found = marked(args[1:]) if args else None
        if found is None:
            return Reply(text=messages.USAGE["feedback"], private=True)
        mark, note = found
        return self.control(f"fb:{mark}", args[0].lstrip("#"), caller.identity, " ".join(note))

    def _cmd_approve(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        return self._decide(args, caller, approve=True)

    def _cmd_deny(self, args: list[str], caller: Caller, progress: Progress) -> Reply:
        return self._decide(args, caller, approve=False)

    # -- helpers -----------------------------------------------------------------------------------------

    def _card(self, incident: str | None) -> Card | None:
        if incident is None or self.timelines is None:
            return None
        return self.timelines.cards.get(incident)

    def _decide(self, args: list[str], caller: Caller, approve: bool) -> Reply:
        if len(args) != 1:
            return Reply(text=messages.USAGE["approve" if approve else "deny"], private=True)
        result = self.click(args[0].lstrip("#"), caller.identity, approve)
        return Reply(text=result.reply.text, card=result.updated, private=result.reply.private)

    def _split(self, target: str) -> tuple[str, str | None]:
        """'shop/checkout' → ('checkout', 'shop'); 'checkout' → ('checkout', None)."""
        ns, _, name = target.rpartition("/")
        return name, ns or None

    def _locate(self, target: str, caller: Caller, progress: Progress) -> tuple[str, str] | Reply:
        """Find the namespace of a deployment named without one, in the configured chat namespaces."""
        name, ns = self._split(target)
        if ns:
            return ns, name
        progress(f"looking for deployment {name}…")
        for candidate in self.namespaces:
            r = self.door.run("k8s_describe", {"namespace": candidate, "kind": "Deployment", "name": name}, caller)
            if r.status == Status.success:
                return candidate, name
            if r.status == Status.error and "could not reach" in (r.error or ""):
                return Reply(text=r.error or "", private=True)
        return Reply(text=messages.NOT_FOUND.format(name=name, namespaces=", ".join(self.namespaces)), private=True)

    def _mutate(self, tool: str, target: str, extra: dict[str, Any], caller: Caller, progress: Progress) -> Reply:
        where = self._locate(target, caller, progress)
        if isinstance(where, Reply):
            return where
        ns, name = where
        r = self._run(tool, {"namespace": ns, "deployment": name, **extra}, caller, progress, "checking policy…")
        if r.status == Status.approval_required:
            action = self.door.gate.store.get(r.data["action_id"])
            return Reply(text=r.notice or "", card=action_card(action) if action else None)
        if r.status == Status.success:
            return Reply(text=f"done: {r.invocation}")
        return Reply(text=f"not done: {r.error}", private=r.status == Status.error)
