"""What every rule shares: the `Diagnosis` it returns and the `Reader` over triage's results (the alert's own
pods apart from a dependency's, the deployments, every log line), which also decides whether a rollback fits
(the running template began the failure, in a mode a release causes) and builds the diagnosis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.triage.quotes import pod_logs, telling
from bot.triage.results import dependency_pods, described, log_lines
from bot.triage.subject import Subject
from tools.base import ToolResult

RELEASE_WINDOW = timedelta(hours=1)  # a revision this much older than the alert's start did not start it
RELEASE_MODES = {"crashloopbackoff", "oomkilled", "init-container-failure", "imagepullbackoff",
                 "container-config-error", "unschedulable-pods", "failed-rollout", "probe-failure",
                 "latency-regression", "http-5xx-spike"}


class Action(BaseModel):
    """An action other than the rollback that the mechanism calls for, with its why; it goes through the door
    like any proposal (the policy decides, people approve)."""

    tool: Literal["k8s_rollout_restart", "k8s_scale"]
    args: dict[str, Any] = Field(description="the tool's arguments: namespace, deployment (and replicas)")
    why: str = Field(description="the mechanism, in one line: why this action fixes it")


class Diagnosis(BaseModel):
    mode: str = Field(description="the failure mode, also the playbook's name")
    about: str = Field(description="the object, e.g. 'Pod shop/checkout-5d8f-x2 container checkout'")
    summary: str = Field(description="the decisive state, word for word")
    quotes: list[str] = Field(default_factory=list, description="the decisive source lines, word for word")
    rollback: dict[str, str] | None = Field(None, description="namespace and deployment, when a rollback fits")
    rollback_note: str | None = Field(None, description="the revision a rollback returns to and why, or why none "
                                      "fits although a release began the failure")
    action: Action | None = Field(None, description="a restart or a scale the mechanism calls for (not a rollback)")
    advice: str | None = None
    basis: Literal["state", "logs", "alert"] = Field("state", description="what it rests on: the objects' state, "
                                                     "a log line (then `summary` is that line), or the alert alone")

    def line(self) -> str:
        return f"{self.mode}: {self.about}: {self.summary}"

    def proposed(self) -> list[tuple[str, dict[str, Any], str]]:
        """(tool, args, why) of each action the diagnosis proposes: its rollback, then its action."""
        out = [("k8s_rollback", dict(self.rollback), f"{self.mode}: the failure began with the running pod "
                f"template; back to {self.rollback_note}")] if self.rollback else []
        if self.action:
            out.append((self.action.tool, dict(self.action.args), f"{self.mode}: {self.action.why}"))
        return out


class Reader:
    """The results, and the facts every rule asks about."""

    def __init__(self, alert: Subject, results: list[ToolResult], now: datetime):
        self.alert, self.results, self.now = alert, results, now
        theirs = dependency_pods(results)
        pods = described(results, "Pod")
        self.pods = [p for p in pods if p["name"] not in theirs and self._own(p)]  # the alert's own pods
        self.dependency = [p for p in pods if p["name"] in theirs]  # behind a Service a failing call named
        self.deployments = described(results, "Deployment")
        self.logs = log_lines(results)

    def _own(self, pod: dict[str, Any]) -> bool:
        """A pod of the workload (or the pod) the alert names; any pod when it names none (a node, a namespace)."""
        t = self.alert.target
        mine = t.workload or (t.name if t.kind == "Pod" else None)
        return not mine or pod["name"] == mine or pod["name"].startswith(f"{mine}-") or any(
            str(link).split("/", 1)[-1].removesuffix(" (gone)") == mine for link in pod.get("controlled_by") or [])

    def rollback(self, mode: str) -> tuple[dict[str, str] | None, str | None]:
        """The deployment to roll back and where to (k8s_describe's rollback plan, tools/k8s_revisions.py), when
        the running template began the failure; else None and, if a release began it, why no rollback fits."""
        if mode not in RELEASE_MODES:
            return None, None
        for d in self.deployments:
            plan = d.get("rollback") or {}
            if not plan.get("began_created"):
                continue
            began = datetime.fromisoformat(plan["began_created"].replace("Z", "+00:00"))
            start = self.alert.starts_at or self.now
            start = start if start.tzinfo else start.replace(tzinfo=UTC)
            if not (began <= start + timedelta(minutes=5) and start - began <= RELEASE_WINDOW):
                continue
            if plan.get("revision") is None:
                return None, f"no rollback: {plan.get('refused')}"
            return {"namespace": d["namespace"], "deployment": d["name"]}, plan.get("why")
        return None, None

    def make(self, mode: str, about: str, summary: str, quotes: list[str], advice: str,
             rollback_fits: bool = True, basis: Literal["state", "logs", "alert"] = "state",
             action: Action | None = None) -> Diagnosis:
        rb, note = self.rollback(mode) if rollback_fits and action is None else (None, None)
        if note and not rb:
            advice = f"{advice} ({note})"
        quotes = [q for q in dict.fromkeys(quotes) if q and q != summary]
        return Diagnosis(mode=mode, about=about, summary=summary, quotes=quotes[:8], rollback=rb, rollback_note=note,
                         action=action, advice=None if rb or action else advice, basis=basis)

    def dependency_lines(self) -> list[str]:
        """The telling lines of the pods behind a Service a failing call named."""
        return [f"{p['name']} {c['name']}: {x}" for p in self.dependency for c in p.get("containers", [])
                for x in telling(pod_logs(self.results, p["name"], c["name"]), 3)]

    def about(self) -> str:
        """The object the alert names, else its deployment, else its namespace and service, else its name."""
        t = self.alert.target
        if t.kind and t.name:
            return f"{t.kind} {t.namespace + '/' if t.namespace else ''}{t.name}"
        if self.deployments:
            return f"Deployment {self.deployments[0]['namespace']}/{self.deployments[0]['name']}"
        return "/".join(x for x in (self.alert.namespace, self.alert.service) if x) or self.alert.name
