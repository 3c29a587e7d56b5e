"""The action gate: a mutating call becomes a policy decision, then (maybe) a pending action, then one execution.

The model, a chat command or triage may propose; only this module executes, and only an action that the
policy allowed outright or that collected valid approvals and was claimed exactly once, after the policy
was checked again against the current state. A rule may allow by a verified track record (policies/earned.py)
only what triage proposed from its diagnosis (`via` triage, with the failure mode its playbook names): the gate
reads that record from outcome learning and executes it as `opsbot:policy`; a proposal of the model or a person
never carries a failure mode, so it never runs that way. While the kill switch (bot/guard/pause.py) is on, no
mutation runs without a person's approval, whatever rule allowed it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import redis
import structlog
from pydantic import BaseModel

from bot import messages
from bot.cards import strings as S
from bot.guard.approvals import ApprovalStore, ApprovalsUnavailable, PendingAction
from bot.guard.audit import AuditLog, AuditRecord, AuditUnavailable
from bot.guard.invoke import error, invoke
from bot.guard.pause import PauseSwitch
from bot.guard.watch import VERBS, Snapshot, Unreadable, Watch, Watches, deployment_of
from knowledge.outcomes import Outcomes, OutcomesUnavailable
from policies.earned import Records, Verified
from policies.engine import ActionRequest, Decision, PolicyEngine
from policies.schema import Severity
from tools.base import BackendError, Preview, Status, Tool, ToolInputError, ToolResult
from tools.context import ToolContext

log = structlog.get_logger(__name__)

POLICY_IDENTITY = "opsbot:policy"  # who executes what a rule allowed by its track record (the audit names the rule)


class Verdict(BaseModel):
    """What a click or an approve/deny command gets back: a plain sentence, and the action as it now is."""

    ok: bool
    message: str
    action: PendingAction | None = None
    result: ToolResult | None = None


class ActionGate:
    def __init__(self, tools: Mapping[str, Tool], ctx: ToolContext, engine: PolicyEngine, store: ApprovalStore,
                 audit: AuditLog, look: Callable[[str, str, str | None], Snapshot] | None = None,
                 outcomes: Outcomes | None = None):
        self.tools, self.ctx, self.engine, self.store, self.audit = tools, ctx, engine, store, audit
        self.look = look  # a deployment's state, read through the door (bot.guard.watch.observe)
        self.watches = Watches(store.client, store.prefix)
        self.track_record = track_records(outcomes)  # what a rule may allow by; no outcomes: such rules ask
        self.pause = PauseSwitch(store.client, store.prefix)

    def _request(self, t: Tool, preview: Preview, requester: str, severity: Severity | None,
                 failure_mode: str | None, via: str, cluster: str | None = None) -> ActionRequest:
        """`via` "verify": the undo bot.guard.verify proposes of an action that did not fix it (no cooldown);
        `cluster` the one the arguments name (None: the default cluster, by its name)."""
        return ActionRequest(tool=t.name, namespace=preview.namespace, target=preview.target, requester=requester,
                             severity=severity, replicas=preview.replicas, deployment=preview.deployment,
                             failure_mode=failure_mode, undo=via == "verify",
                             cluster=cluster or self.ctx.settings.kubernetes.default)

    def _decide(self, req: ActionRequest) -> Decision:
        """The engine's decision now: the executions ledger, the kill switch (any rule that would allow a mutation
        asks while it is on), and for a rule with a track record the record."""
        now = self.ctx.now()
        paused = self.pause.why(self.ctx.settings)  # every rule that would allow a mutation asks while paused
        return self.engine.decide(req, self.store.executions(now), now, records=self.track_record, paused=paused)

    def _audit(self, kind: str, identity: str, action: str, target: str, status: str, summary: str,
               args: dict[str, Any] | None = None, incident: str | None = None) -> None:
        self.audit.append(AuditRecord(at=self.ctx.now(), kind=kind, identity=identity, action=action, target=target,
                                      status=status, summary=summary, args=args or {}, incident=incident))

    def propose(self, t: Tool, args: Any, requester: str, severity: Severity | None,
                incident: str | None, via: str = "cli", failure_mode: str | None = None) -> ToolResult:
        """Preview, decide, then deny, execute (allowed) or leave pending. Within an incident the same tool
        with the same arguments is proposed once: a retried triage gets the action already waiting.
        `failure_mode` counts only for triage's own proposals (see the module doc)."""
        failure_mode = failure_mode if via == "triage" else None
        assert t.preview is not None
        raw = args.model_dump(mode="json")
        invocation = t.summary(args)
        try:
            if incident is not None:
                held = self.store.proposal(incident, t.name, raw)
                if held is not None and held.state in ("pending", "claimed"):
                    return self._pending_result(t.name, invocation, held)
            preview = t.preview(self.ctx, args)  # ToolInputError / BackendError: reported by the door
            now = self.ctx.now()
            decision = self._decide(self._request(t, preview, requester, severity, failure_mode, via,
                                                  getattr(args, "cluster", None)))
            own = f" ({messages.MODEL_OWN})" if via == "model" else ""  # the trail says whose the idea was
            self._audit("decision", requester, t.name, preview.target, decision.outcome,
                        f"{preview.summary}: {decision.reason}{own}", raw, incident)
            if decision.outcome == "deny":
                return ToolResult(tool=t.name, status=Status.denied, invocation=invocation, error=decision.reason,
                                  data={"preview": preview.model_dump(), "checks": decision.checks})
            action = self.store.create(t.name, raw, preview, decision, requester, incident, now, via, failure_mode)
            if decision.outcome == "allow":
                by = POLICY_IDENTITY if decision.automatic == "ran" else requester
                self.store.transition(action.id, "pending", "claimed", by)
                verdict = self._execute(action, by)
                return _ran(verdict.result, action, decision) if verdict.result else \
                    error(t.name, verdict.message, invocation)
        except (ApprovalsUnavailable, AuditUnavailable) as e:
            return error(t.name, f"{e}; mutations fail closed", invocation)
        return self._pending_result(t.name, invocation, action)

    @staticmethod
    def _pending_result(tool: str, invocation: str, action: PendingAction) -> ToolResult:
        a = action.decision.approvers
        assert a is not None
        return ToolResult(
            tool=tool, status=Status.approval_required, invocation=invocation,
            data={"action_id": action.id, "preview": action.preview.model_dump(), "reason": action.decision.reason,
                  "approvers": {"roles": a.roles, "count": a.count, "self_approval": a.self_approval},
                  "expires_at": action.expires_at.isoformat(), "automatic": action.decision.automatic},
            notice=f"pending approval #{action.id}: {action.preview.summary}; nothing has changed yet",
        )

    def decide(self, action_id: str, identity: str, approve: bool) -> Verdict:
        """An Approve or Deny click by `identity`, checked server-side whatever the card showed."""
        try:
            action = self.store.get(action_id)
            if action is None:
                return Verdict(ok=False, message=f"there is no action #{action_id}")
            return self._approve(action, identity) if approve else self._deny(action, identity)
        except (ApprovalsUnavailable, AuditUnavailable) as e:
            return Verdict(ok=False, message=f"{e}; nothing was executed")

    def _refused(self, action: PendingAction, identity: str, message: str, verb: str) -> Verdict:
        self._audit(verb, identity, action.tool, action.preview.target, "refused", message, incident=action.incident)
        return Verdict(ok=False, message=message, action=action)

    def _closed(self, action: PendingAction, out: list[str], identity: str, verb: str) -> Verdict:
        if out[0] == "expired":
            self._audit("expiry", identity, action.tool, action.preview.target, "expired",
                        f"#{action.id} expired at {action.expires_at:%H:%M:%S} UTC", incident=action.incident)
            return Verdict(ok=False, message=f"action #{action.id} expired at {action.expires_at:%H:%M:%S} UTC; "
                                             "ask again if it is still needed", action=self.store.get(action.id))
        state = out[1] if len(out) > 1 else out[0]
        return self._refused(action, identity, f"action #{action.id} was already {state}; nothing more to do", verb)

    def _deny(self, action: PendingAction, identity: str) -> Verdict:
        if identity != action.requester:
            refusal = self.engine.may_approve(identity, action.decision, action.requester, [])
            if refusal:
                return self._refused(action, identity, f"you may not deny this action: {refusal}", "denial")
        out = self.store.transition(action.id, "pending", "denied", identity, f"denied by {identity}", self.ctx.now())
        if out[0] != "ok":
            return self._closed(action, out, identity, "denial")
        self._audit("denial", identity, action.tool, action.preview.target, "denied",
                    f"#{action.id} {action.preview.summary}", incident=action.incident)
        return Verdict(ok=True, message=f"denied by {identity}: {action.preview.summary}", action=self.store.get(action.id))

    def _approve(self, action: PendingAction, identity: str) -> Verdict:
        refusal = self.engine.may_approve(identity, action.decision, action.requester, action.approvals)
        if refusal:
            return self._refused(action, identity, refusal, "approval")
        out = self.store.approve(action.id, identity, self.ctx.now())
        if out[0] == "duplicate":
            return self._refused(action, identity, f"{identity} has already approved this action", "approval")
        if out[0] in ("expired", "decided", "missing"):
            return self._closed(action, out, identity, "approval")
        self._audit("approval", identity, action.tool, action.preview.target, out[0],
                    f"#{action.id} {action.preview.summary}", incident=action.incident)
        if out[0] == "recorded":
            current = self.store.get(action.id)
            need = action.decision.approvers.count if action.decision.approvers else 1
            have = len(current.approvals) if current else 0
            return Verdict(ok=True, message=f"approval {have} of {need} recorded; waiting for {need - have} more",
                           action=current)
        return self._execute(action, identity)

    def _recheck(self, action: PendingAction, t: Tool, approvers: list[str]) -> str | None:
        """Policy again, against the state now: the target, cooldowns and budgets may have changed."""
        args = t.args.model_validate(action.args)
        assert t.preview is not None
        try:
            preview = t.preview(self.ctx, args)
        except ToolInputError as e:
            return str(e)
        if preview.pinned != action.preview.pinned:
            return f"{preview.target} changed since it was approved: it would now {preview.summary}"
        decision = self._decide(self._request(t, preview, action.requester, action.decision.severity,
                                              action.failure_mode, action.via, getattr(args, "cluster", None)))
        if decision.outcome == "deny":
            return decision.reason
        if decision.outcome == "approve":
            a = decision.approvers
            assert a is not None
            valid = [w for w in approvers if self.engine.may_approve(w, decision, action.requester, []) is None]
            if len(set(valid)) < a.count:
                return f"the policy now needs {a.count} approvals from {', '.join(a.roles)}; it has {len(set(valid))}"
        return None

    def _execute(self, action: PendingAction, claimed_by: str) -> Verdict:
        t = self.tools[action.tool]
        current = self.store.get(action.id)
        approvers = current.approvals if current else []
        try:
            reason = self._recheck(action, t, approvers)
        except BackendError as e:
            return self._finish(action, claimed_by, None, f"failed: {e}")
        if reason:
            self.store.transition(action.id, "claimed", "refused", claimed_by, reason)
            self._audit("execution", claimed_by, action.tool, action.preview.target, "refused",
                        f"#{action.id} not executed: {reason}", action.args, action.incident)
            return Verdict(ok=False, message=f"not executed: {reason}", action=self.store.get(action.id))
        deployment = deployment_of(action.tool, action.preview) if action.tool in VERBS else None
        before = self._looked(action.preview.namespace, deployment, action.args.get("cluster"))
        result = invoke(t, self.ctx, t.args.model_validate(action.args), claimed_by)
        self.store.record_execution(action, self.ctx.now())
        done = result.status == Status.success
        verdict = self._finish(action, claimed_by, result, result.invocation if done else f"failed: {result.error}")
        if done and deployment:
            self._watch(action, deployment, before)
        return verdict

    def _looked(self, namespace: str, deployment: str | None, cluster: str | None) -> Snapshot | None:
        """The target before the action runs, what a later 'worse' is measured against (None: not readable)."""
        if self.look is None or deployment is None:
            return None
        try:
            return self.look(namespace, deployment, cluster)
        except Unreadable:
            return None

    def _watch(self, action: PendingAction, deployment: str, before: Snapshot | None) -> None:
        """Verify the executed action from now for the policy's window (bot.guard.verify decides, on its ticks)."""
        now = self.ctx.now()
        try:
            self.watches.begin(Watch(action_id=action.id, tool=action.tool, summary=action.preview.summary,
                                     namespace=action.preview.namespace, deployment=deployment,
                                     cluster=action.args.get("cluster"), incident=action.incident,
                                     executed_at=now, before=before,
                                     deadline=now + self.engine.policy.verify.window))
        except redis.RedisError as e:  # the action ran; only its verification is lost, and the log says so
            log.error("verification_not_started", action=action.id, error=f"{type(e).__name__}: {e}")

    def _finish(self, action: PendingAction, claimed_by: str, result: ToolResult | None, outcome: str) -> Verdict:
        done = result is not None and result.status == Status.success
        self.store.transition(action.id, "claimed", "executed" if done else "failed", "", outcome)
        self._audit("execution", claimed_by, action.tool, action.preview.target, "success" if done else "error",
                    f"#{action.id} {action.preview.summary}: {outcome}", action.args, action.incident)
        message = f"done: {action.preview.summary}" if done else outcome
        return Verdict(ok=done, message=message, action=self.store.get(action.id), result=result)

    def withdraw(self, action_id: str, identity: str, why: str) -> bool:
        """Close a still-pending action that is no longer wanted (its incident resolved); audited."""
        action = self.store.get(action_id)
        if action is None or self.store.transition(action_id, "pending", "expired", identity, f"withdrawn: {why}")[0] != "ok":
            return False
        self._audit("expiry", identity, action.tool, action.preview.target, "withdrawn",
                    f"#{action_id} withdrawn: {why}", incident=action.incident)
        return True

    def expire_due(self) -> list[str]:
        """Mark pending actions past their expiry as expired ("expired at HH:MM UTC, not executed"), and audit
        each one; their ids (bot.guard.expiry edits the messages that show them)."""
        now = self.ctx.now()
        expired = []
        for action_id in self.store.due(now):
            action = self.store.get(action_id)
            outcome = S.EXPIRED.format(at=action.expires_at) if action else "expired"
            out = self.store.transition(action_id, "pending", "expired", "", outcome, None)
            if action and out[0] == "ok":
                self._audit("expiry", "opsbot:clock", action.tool, action.preview.target, "expired",
                            f"#{action_id} expired unapproved", incident=action.incident)
                expired.append(action_id)
        return expired


def track_records(outcomes: Outcomes | None) -> Records:
    """(failure mode, tool) → its verified outcomes from outcome learning; None when they cannot be read."""

    def read(failure_mode: str, tool: str) -> Verified | None:
        if outcomes is None:
            return None
        try:
            stats = next((s for s in outcomes.stats(failure_mode) if s.action == tool), None)
            last = outcomes.last_failure(failure_mode, tool)
        except OutcomesUnavailable as e:
            log.warning("track_record_unread", failure_mode=failure_mode, tool=tool, error=str(e)[:200])
            return None
        return Verified(verified=stats.total if stats else 0, fixed=stats.succeeded if stats else 0,
                        last_failure=last)

    return read

def _ran(result: ToolResult, action: PendingAction, decision: Decision) -> ToolResult:
    """An allowed action's result, carrying its id, the rule's reason and whether it ran by a track record (what
    its card line shows, and what verification finds it by)."""
    data = result.data if isinstance(result.data, dict) else {"result": result.data}
    return result.model_copy(update={"data": {**data, "action_id": action.id, "reason": decision.reason,
                                              "automatic": decision.automatic}})
