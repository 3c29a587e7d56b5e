"""What every rule shares: the `Diagnosis` it returns and the `Reader` over triage's results (the alert's own
pods apart from a dependency's, the deployments, the log lines of the alert's own workload and of the followed
neighbours apart from everyone else's), which also decides whether a rollback fits (what the release changed is
what the failure follows from, or it began the failure just before, in a mode a release causes) and builds the
diagnosis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.intake.target import Target
from bot.triage.quotes import pod_logs, telling
from bot.triage.results import dependency_pods, described, ok
from bot.triage.rules import release
from bot.triage.subject import Subject
from tools.base import ToolResult
from tools.k8s_api import age

RELEASE_WINDOW = timedelta(hours=1)  # within it, a release began the failure by timing; beyond, only by mechanism
# an alert about the state of a namespace's pods (kube-state-metrics' pod and workload series, the kubernetes-mixin
# alerts over them): the namespace's unhealthy pods are what it is about, though it names none of them
POD_STATE = re.compile(r"\bKube(Pod|Container|Deployment|StatefulSet|DaemonSet|Job)|kube_(pod|deployment|"
                       r"statefulset|daemonset|job)_|\bcontainer_")
RELEASE_MODES = {"crashloopbackoff", "oomkilled", "init-container-failure", "imagepullbackoff",
                 "container-config-error", "unschedulable-pods", "failed-rollout", "probe-failure",
                 "latency-regression", "http-5xx-spike"}


class Action(BaseModel):
    """An action other than the rollback that the mechanism calls for, with its why; it goes through the door
    like any proposal (the policy decides, people approve)."""

    tool: Literal["k8s_rollout_restart", "k8s_scale"]
    args: dict[str, Any] = Field(description="the tool's arguments: namespace, deployment (and replicas)")
    why: str = Field(description="the mechanism, in one line: why this action fixes it")
    current: int | None = Field(None, description="a scale's replica count now (bot/triage/steps.py cuts a change "
                                "larger than the policy's max_step to its first step)")


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

    def __init__(self, alert: Subject, results: list[ToolResult], now: datetime, target: Target | None = None):
        self.alert, self.results, self.now = alert, results, now
        self.target = target or alert.target  # the alert's object, through its owner chain when triage resolved it
        theirs = dependency_pods(results)
        pods = described(results, "Pod")
        self.pods = [p for p in pods if p["name"] not in theirs and self._own(p)]  # the alert's own pods
        self.dependency = [p for p in pods if p["name"] in theirs]  # behind a Service a failing call named
        self.deployments = [d for d in described(results, "Deployment") if self._own(d)]
        self.own_logs, self.neighbour_logs, self.other_logs = self._partition()
        self.logs = self.own_logs + self.neighbour_logs  # what a cause may be quoted from

    def _mine(self) -> str | None:
        t = self.target
        return t.workload or (t.name if t.kind in ("Pod", "Deployment") else None)

    def _own(self, obj: dict[str, Any]) -> bool:
        """A pod (or deployment) of the workload the alert names; any when the alert names an object that is not
        a workload (a node, a claim) or speaks of a namespace's pods; none when it names no object and speaks
        of something else (latency, errors, a quota: the namespace's worst pod is not the alert's)."""
        mine = self._mine()
        if not mine:
            return self.target.kind is not None or bool(POD_STATE.search(f"{self.alert.name} {self.alert.expr or ''}"))
        return obj["name"] == mine or obj["name"].startswith(f"{mine}-") or any(
            str(link).split("/", 1)[-1].removesuffix(" (gone)") == mine for link in obj.get("controlled_by") or [])

    def _partition(self) -> tuple[list[str], list[str], list[str]]:
        """Every log line read, by whose it is: the alert's own workload's, a followed neighbour's (the pods
        behind a Service a failing call named), or an unrelated pod's or service's, never quoted as a cause."""
        own_pods = {p["name"] for p in self.pods}
        theirs = {p["name"] for p in self.dependency}
        neighbours = {d["name"] for d in described(self.results, "Service")}
        mine = self._mine()
        anyone = not mine and (self.target.kind is not None or
                               bool(POD_STATE.search(f"{self.alert.name} {self.alert.expr or ''}")))
        own: list[str] = []
        neighbour: list[str] = []
        other: list[str] = []

        def whose(name: str | None, workload: bool) -> list[str]:
            if name and (name in own_pods or (mine and (name == mine or name.startswith(f"{mine}-")))):
                return own
            if name and (name in theirs or (workload and name in neighbours)):
                return neighbour
            return own if anyone else other

        for d in ok(self.results, "k8s_pod_logs"):
            whose(d.get("pod"), False).extend(str(x) for x in d.get("lines", []))
        for d in ok(self.results, "logs_search"):
            for m in d.get("by_message", []):
                whose(m.get("service"), True).append(str(m.get("message")))
        return own, neighbour, other

    def rollback(self, mode: str, container: str | None = None, evidence: str = "",
                 about: str = "") -> tuple[dict[str, str] | None, str | None]:
        """The deployment to roll back and where to, and why; see `_rollback`."""
        rb, note, _ = self._rollback(mode, container, evidence, about)
        return rb, note

    def _start(self) -> datetime:
        start = self.alert.starts_at or self.now
        return start if start.tzinfo else start.replace(tzinfo=UTC)

    def _rollback(self, mode: str, container: str | None, evidence: str,
                  about: str) -> tuple[dict[str, str] | None, str | None, str | None]:
        """The deployment to roll back and where to (k8s_describe's rollback plan, tools/k8s_revisions.py), when
        the running template began the failure: by mechanism (what the release changed in `container` is what
        the failure follows from, bot/triage/rules/release.py), however long before the alert, for the
        deployment `about` names; or, in a mode a release causes, by starting within RELEASE_WINDOW of it
        (`released`). Else None and, if a release came before, why no rollback fits; and, when the release's
        change is the mechanism, that change in words."""
        start = self._start()
        for d in described(self.results, "Deployment"):
            plan = d.get("rollback") or {}
            if not plan.get("began_created"):
                continue
            began = datetime.fromisoformat(plan["began_created"].replace("Z", "+00:00"))
            if began > start + timedelta(minutes=5):
                continue
            ago = age(began, start) or "0s"
            theirs = f"Deployment {d['namespace']}/{d['name']}" in about or f" {d['namespace']}/{d['name']}-" in about
            cause = release.caused(mode, plan.get("released") or [], container, evidence) if theirs else []
            recent = mode in RELEASE_MODES and d is self.released()
            if not (cause or recent):
                if theirs and plan.get("released") and mode in release.MECHANISMS:
                    words = [c["words"] for c in plan["released"]]
                    return None, release.sentence(plan, ago, words, fits=False), None
                continue
            if plan.get("revision") is None:
                return None, f"no rollback: {plan.get('refused')}", None
            how = release.sentence(plan, ago, cause, fits=True) if cause else None
            return {"namespace": d["namespace"], "deployment": d["name"]}, \
                f"{plan.get('why')}; {how}" if how else plan.get("why"), how
        return None, None, None

    def released(self) -> dict[str, Any] | None:
        """The alert's deployment whose running template began just before the alert (its revisions were read),
        or None: no release read began it."""
        for d in self.deployments:
            plan = d.get("rollback") or {}
            if not plan.get("began_created"):
                continue
            began = datetime.fromisoformat(plan["began_created"].replace("Z", "+00:00"))
            start = self._start()
            if began <= start + timedelta(minutes=5) and start - began <= RELEASE_WINDOW:
                return d
        return None

    def make(self, mode: str, about: str, summary: str, quotes: list[str], advice: str,
             rollback_fits: bool = True, basis: Literal["state", "logs", "alert"] = "state",
             container: str | None = None, workload: str | None = None, action: Action | None = None) -> Diagnosis:
        """The diagnosis, with the rollback that fits it (none when the rule proposes another `action`):
        `container` and `workload` ('Deployment ns/name') are what the failure involves when `about` does not
        say (it says 'Pod ns/name container c')."""
        evidence = " ".join([summary, *quotes])
        involved = container or release.failing_container(about)
        rb, note, how = self._rollback(mode, involved, evidence, workload or about) \
            if rollback_fits and action is None else (None, None, None)
        if note and not rb:
            advice = f"{advice} ({note})"
        if rb and how:  # the release's change is the cause: the card says which, beside the rollback it proposes
            advice = f"roll back {rb['namespace']}/{rb['deployment']} (proposed below): {how}; else {advice}"
        quotes = [q for q in dict.fromkeys(quotes) if q and q != summary]
        return Diagnosis(mode=mode, about=about, summary=summary, quotes=quotes[:8], rollback=rb,
                         rollback_note=note, action=action, advice=advice if how or action or not rb else None,
                         basis=basis)

    def dependency_lines(self) -> list[str]:
        """The telling lines of the pods behind a Service a failing call named."""
        return [f"{p['name']} {c['name']}: {x}" for p in self.dependency for c in p.get("containers", [])
                for x in telling(pod_logs(self.results, p["name"], c["name"]), 3)]

    def about(self) -> str:
        """The object the alert names, else its deployment, else its namespace and service, else its name."""
        t = self.target
        if t.kind and t.name:
            return f"{t.kind} {t.namespace + '/' if t.namespace else ''}{t.name}"
        if self.deployments:
            return f"Deployment {self.deployments[0]['namespace']}/{self.deployments[0]['name']}"
        return "/".join(x for x in (self.alert.namespace, self.alert.service) if x) or self.alert.name
