"""What MCP offers beyond the backend tools, as tools of the caller's own door: troubleshoot a named service,
the incidents and one incident's timeline, the pending actions. Each is bound to one caller (troubleshoot's
reads run through the door as that caller) and, being a tool, is validated, masked, capped and audited."""

from __future__ import annotations

from typing import Any, Literal

import redis
from pydantic import Field

from bot import messages
from bot.guard.approvals import ApprovalsUnavailable
from bot.guard.door import Caller, Door
from bot.settings import Settings
from tools.base import Args, BackendError, ClusterArgs, Tool, ToolInputError, ToolResult, empty, ok
from tools.context import ToolContext
from tools.k8s_api import Namespace, ObjectName


class TroubleshootArgs(ClusterArgs):
    namespace: Namespace
    service: ObjectName = Field(description="the service (deployment) name, e.g. checkout")


class IncidentListArgs(Args):
    limit: int = Field(20, ge=1, le=100, description="how many, newest first")
    status: Literal["firing", "resolved"] | None = Field(None, description="only firing or only resolved ones")


class IncidentShowArgs(Args):
    incident_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$", description="e.g. inc-42, from incident_list")


class NoArgs(Args):
    pass


def _lines(name: str, invocation: str, text: str) -> ToolResult:
    return ok(name, invocation, {"lines": text.splitlines()})


def views(door: Door, settings: Settings, caller: Caller) -> list[Tool]:
    """The views, bound to `caller`; `door` is the one their reads go through."""
    from bot.cli.action import pending_line
    from bot.cli.knowledge import diagnose, troubleshooting_text
    from bot.intake.timeline import list_text, story_text, timelines

    def redis_down(what: str) -> BackendError:
        return BackendError("redis", settings.redis.url, what, "Redis is unreachable")

    def troubleshoot(ctx: ToolContext, args: TroubleshootArgs) -> ToolResult:
        there = caller.model_copy(update={"cluster": args.cluster}) if args.cluster else caller
        report = diagnose(settings, door, there, args.namespace, args.service)
        if isinstance(report, str):
            raise ToolInputError(report)
        return _lines("troubleshoot", T["troubleshoot"].summary(args), troubleshooting_text(report, verbose=False))

    def incident_list(ctx: ToolContext, args: IncidentListArgs) -> ToolResult:
        try:
            found = timelines(settings).recent(args.limit, args.status)
        except redis.RedisError:
            raise redis_down("the incidents") from None
        return _lines("incident_list", T["incident_list"].summary(args), list_text(found))

    def incident_show(ctx: ToolContext, args: IncidentShowArgs) -> ToolResult:
        try:
            story = timelines(settings).story(args.incident_id)
        except redis.RedisError:
            raise redis_down(f"incident {args.incident_id}") from None
        if story is None:
            raise ToolInputError(messages.MCP_NO_INCIDENT.format(incident_id=args.incident_id))
        return _lines("incident_show", T["incident_show"].summary(args), story_text(story))

    def action_list(ctx: ToolContext, args: NoArgs) -> ToolResult:
        store, now = door.gate.store, ctx.now()
        try:
            actions = [a for a in (store.get(i) for i in store.pending()) if a is not None and a.expires_at > now]
        except ApprovalsUnavailable:
            raise redis_down("the pending actions") from None
        if not actions:
            return empty("action_list", "action_list()", messages.MCP_NO_PENDING)
        return _lines("action_list", "action_list()", "\n".join(pending_line(a) for a in actions))

    described: list[tuple[Any, str, type[Args], str]] = [
        (troubleshoot, "Troubleshoot a service as `opsbot troubleshoot` does: the matching playbook's reads, the "
         "diagnosis (the object that holds the cause, the mechanism), what a person should do and the actions it "
         "supports (proposed, not run); nothing is changed.", TroubleshootArgs, "kubernetes"),
        (incident_list, "The newest incidents opsbot recorded: id, status, severity, first seen, alerts counted, "
         "title.", IncidentListArgs, "opsbot"),
        (incident_show, "One incident's timeline: what fired and resolved, the evidence, what was proposed, "
         "decided and executed.", IncidentShowArgs, "opsbot"),
        (action_list, "The actions waiting for approval in chat: id, what each would change, who asked, "
         "approvals so far, expiry, the policy's reason.", NoArgs, "opsbot"),
    ]
    T = {fn.__name__: Tool(fn.__name__, doc, args, fn, backend) for fn, doc, args, backend in described}
    return list(T.values())
