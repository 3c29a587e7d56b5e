"""What every rule shares: the `Diagnosis` it returns and the `Reader` over triage's results (the alert's own
pods apart from a dependency's, the deployments, every log line), which also decides whether a rollback fits
(what the release changed is what the failure follows from, or it began the failure just before, in a mode a
release causes) and builds the diagnosis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.triage.quotes import pod_logs, telling
from bot.triage.results import dependency_pods, described, log_lines
from bot.triage.rules import release
from bot.triage.subject import Subject
from tools.base import ToolResult
from tools.k8s_api import age

RELEASE_WINDOW = timedelta(hours=1)  # within it, a release began the failure by timing; beyond, only by mechanism
RELEASE_MODES = {"crashloopbackoff", "oomkilled", "init-container-failure", "imagepullbackoff",
                 "container-config-error", "unschedulable-pods", "failed-rollout", "probe-failure",
                 "latency-regression", "http-5xx-spike"}


class Diagnosis(BaseModel):
    mode: str = Field(description="the failure mode, also the playbook's name")
    about: str = Field(description="the object, e.g. 'Pod shop/checkout-5d8f-x2 container checkout'")
    summary: str = Field(description="the decisive state, word for word")
    quotes: list[str] = Field(default_factory=list, description="the decisive source lines, word for word")
    rollback: dict[str, str] | None = Field(None, description="namespace and deployment, when a rollback fits")
    rollback_note: str | None = Field(None, description="the revision a rollback returns to and why, or why none "
                                      "fits although a release began the failure")
    advice: str | None = None
    basis: Literal["state", "logs", "alert"] = Field("state", description="what it rests on: the objects' state, "
                                                     "a log line (then `summary` is that line), or the alert alone")

    def line(self) -> str:
        return f"{self.mode}: {self.about}: {self.summary}"


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

    def rollback(self, mode: str, container: str | None = None, evidence: str = "",
                 about: str = "") -> tuple[dict[str, str] | None, str | None]:
        """The deployment to roll back and where to, and why; see `_rollback`."""
        rb, note, _ = self._rollback(mode, container, evidence, about)
        return rb, note

    def _rollback(self, mode: str, container: str | None, evidence: str,
                  about: str) -> tuple[dict[str, str] | None, str | None, str | None]:
        """The deployment to roll back and where to (k8s_describe's rollback plan, tools/k8s_revisions.py), when
        the running template began the failure: by mechanism (what the release changed in `container` is what
        the failure follows from, bot/triage/rules/release.py), however long before the alert, or, in a mode a
        release causes, by starting within RELEASE_WINDOW of it. Else None and, if a release came before,
        why no rollback fits; and, when the release's change is the mechanism, that change in words."""
        start = self.alert.starts_at or self.now
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        for d in self.deployments:
            plan = d.get("rollback") or {}
            if not plan.get("began_created"):
                continue
            began = datetime.fromisoformat(plan["began_created"].replace("Z", "+00:00"))
            if began > start + timedelta(minutes=5):
                continue
            ago = age(began, start) or "0s"
            theirs = not about or f"Deployment {d['namespace']}/{d['name']}" in about or \
                f" {d['namespace']}/{d['name']}-" in about
            cause = release.caused(mode, plan.get("released") or [], container, evidence) if theirs else []
            recent = mode in RELEASE_MODES and start - began <= RELEASE_WINDOW
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

    def make(self, mode: str, about: str, summary: str, quotes: list[str], advice: str,
             rollback_fits: bool = True, basis: Literal["state", "logs", "alert"] = "state",
             container: str | None = None, workload: str | None = None) -> Diagnosis:
        """The diagnosis, with the rollback that fits it: `container` and `workload` ('Deployment ns/name') are
        what the failure involves when `about` does not say (it says 'Pod ns/name container c')."""
        evidence = " ".join([summary, *quotes])
        involved = container or release.failing_container(about)
        rb, note, how = self._rollback(mode, involved, evidence, workload or about) if rollback_fits else \
            (None, None, None)
        if note and not rb:
            advice = f"{advice} ({note})"
        if rb and how:  # the release's change is the cause: the card says which, beside the rollback it proposes
            advice = f"roll back {rb['namespace']}/{rb['deployment']} (proposed below): {how}; else {advice}"
        quotes = [q for q in dict.fromkeys(quotes) if q and q != summary]
        return Diagnosis(mode=mode, about=about, summary=summary, quotes=quotes[:8], rollback=rb,
                         rollback_note=note, advice=advice if how or not rb else None, basis=basis)

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
