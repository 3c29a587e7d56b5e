"""The one door: every tool call, from any caller, is validated, run, bounded and audited here."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError

from bot.guard.approvals import ApprovalStore
from bot.guard.audit import AuditLog, AuditRecord, AuditUnavailable
from bot.guard.gate import ActionGate
from bot.guard.invoke import error, invoke
from bot.guard.watch import VERIFIER, Snapshot, observe
from bot.redact import redact, redact_data
from knowledge.outcomes import Outcomes
from policies.engine import PolicyEngine
from policies.schema import Severity
from tools.base import BackendError, Tool, ToolInputError, ToolResult
from tools.cap import cap
from tools.context import ToolContext

log = structlog.get_logger(__name__)


class Caller(BaseModel):
    """Who asks: a chat identity such as slack:U123, through what (cli, agent, triage), for which incident."""

    identity: str
    via: str = "cli"
    incident: str | None = None
    severity: Severity | None = None
    failure_mode: str | None = None  # the playbook triage's diagnosis named (a policy's track record; gate.py)
    cluster: str | None = None  # where a Kubernetes call that names no cluster goes (an alert's); None: the default


def describe_validation(tool: str, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "arguments"
        msg = "is not an argument of this tool" if e["type"] == "extra_forbidden" else e["msg"]
        parts.append(f"{where}: {msg}")
    return f"invalid arguments for {tool}: " + "; ".join(parts)


def masked(result: ToolResult) -> ToolResult:
    """The result with every secret masked: chat replies, cards, the model, knowledge and Redis get only this."""
    return result.model_copy(update={
        "data": redact_data(result.data), "invocation": redact(result.invocation),
        "error": redact(result.error) if result.error else result.error,
        "notice": redact(result.notice) if result.notice else result.notice})


def _target(args: dict[str, Any]) -> str:
    keys = ("cluster", "namespace", "kind", "deployment", "pod", "name", "service", "query")
    return "/".join(str(args[k]) for k in keys if args.get(k))


class Door:
    def __init__(self, tools: Mapping[str, Tool] | Iterable[Tool], ctx: ToolContext, audit: AuditLog,
                 engine: PolicyEngine, approvals: ApprovalStore, outcomes: Outcomes | None = None):
        """`tools` by name (the catalog, which loads a tool's module at its first lookup) or as a list."""
        self.tools = tools if isinstance(tools, Mapping) else {t.name: t for t in tools}
        self.ctx, self.audit = ctx, audit
        self.gate = ActionGate(self.tools, ctx, engine, approvals, audit, look=self.look, outcomes=outcomes)

    def look(self, namespace: str, deployment: str, cluster: str | None = None) -> Snapshot:
        """A deployment's state (on `cluster`; None: the default) as verification judges it, read through this
        door (audited as VERIFIER)."""
        caller = Caller(identity=VERIFIER, via="verify", cluster=cluster)
        return observe(lambda name, args: self.run(name, args, caller), namespace, deployment)

    def cluster_of(self, labels: dict[str, str]) -> str | None:
        """The cluster an alert's labels name (kubernetes.cluster_label); None when the settings name no
        clusters (one cluster: a `cluster` label, such as Prometheus's external label, changes nothing)."""
        k8s = self.ctx.settings.kubernetes
        return labels.get(k8s.cluster_label) if k8s.clusters else None

    def on_cluster(self, name: str, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        """The arguments with the caller's cluster, when the tool takes one and they name none: the audit, the
        pending action and its execution then say which cluster."""
        t = self.tools.get(name)
        if caller.cluster and t is not None and "cluster" in t.args.model_fields and not args.get("cluster"):
            return {**args, "cluster": caller.cluster}
        return args

    def run(self, name: str, args: dict[str, Any], caller: Caller) -> ToolResult:
        started = time.perf_counter()
        args = self.on_cluster(name, args, caller)
        result = masked(self._run(name, args, caller))
        result = cap(result, self.ctx.settings.limits.max_result_chars)
        note = self._record(AuditRecord(
            at=self.ctx.now(),
            kind="tool_call",
            identity=caller.identity,
            action=name,
            target=_target(args),
            status=result.status.value,
            summary=result.invocation if not result.error else f"{result.invocation}: {result.error}",
            args=redact_data(args),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            incident=caller.incident,
        ))
        if note:
            result = result.model_copy(update={"notice": f"{result.notice}; {note}" if result.notice else note})
        return result

    def refuse(self, name: str, raw: str, why: str, caller: Caller) -> None:
        """Audit a call that never reached a tool (a model's call cut off, unparsable or over a limit), so the
        trail holds every call that was asked for, run or not."""
        self._record(AuditRecord(at=self.ctx.now(), kind="tool_call", identity=caller.identity,
                                 action=redact(name)[:80] or "(no name)", status="refused",
                                 summary=f"{redact(name)[:80]}: {why}", args={"raw": redact(raw)[:300]},
                                 duration_ms=0.0, incident=caller.incident))

    def _record(self, record: AuditRecord) -> str | None:
        """Append to the audit log; if it is down, say so (a sentence for the result's notice)."""
        try:
            self.audit.append(record)
        except AuditUnavailable as e:
            log.error("audit_write_failed", tool=record.action, error=str(e))
            return f"not recorded in the audit log: {e}"
        return None

    def _run(self, name: str, args: dict[str, Any], caller: Caller) -> ToolResult:
        t = self.tools.get(name)
        if t is None:
            known = ", ".join(sorted(self.tools))
            return error(name, f"no tool {name!r}; tools: {known}")
        try:
            parsed = t.args.model_validate(args)
        except ValidationError as e:
            return error(name, describe_validation(name, e))
        if not t.mutates:
            return invoke(t, self.ctx, parsed, caller.identity)
        try:
            return self.gate.propose(t, parsed, caller.identity, caller.severity, caller.incident, caller.via,
                                     caller.failure_mode)
        except (ToolInputError, BackendError) as e:
            return error(name, str(e), t.summary(parsed))
