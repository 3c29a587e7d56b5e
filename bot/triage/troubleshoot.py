"""Troubleshooting without a model: pick the matching playbook and run its diagnosis through the door.

    troubleshoot(door, store, caller, namespace="shop", service="checkout")            # `troubleshoot SERVICE`
                                                      # on caller.cluster (None: the default; unknown: refused)
    troubleshoot(door, store, caller, labels=alert.labels, alert="KubePodCrashLooping",  # alert triage
                 text=alert.summary)

Returns a `Troubleshooting`: the target, the playbook and why it matched, the evidence (every
ToolResult, in order, each one run through `door.run`, so validated, policy-gated and audited), the
steps skipped for lack of a label value, the diagnosis of bot/triage/diagnosis.py over all of it (after the
follow-up reads of bot/triage/reads.py: the worst pod described, its previous logs…), and as proposals only
what the diagnosis supports, as in alert triage: a rollback when the running pod template began the failure
and an earlier revision differs from it (naming that revision and why), else none, and the diagnosis says what a person should do (never executed: a caller that wants one passes
it to the door, where the policy decides).

How the playbook is chosen:
- with an alert name: `KnowledgeStore.match_playbooks(alert, labels, text)`;
- with only a service: three reads through the door first (the deployment, its firing alerts, its
  unhealthy pods). A missing deployment ends here with a clear message. A firing alert or a pod state
  that a playbook lists as a signal (CrashLoopBackOff, OOMKilled, Pending…) picks the playbook; with no
  such sign, the fallback playbook (a general health check) runs.
Placeholders: {namespace}, {service}, {deployment} (label `deployment`, else the service) and {pod}
(label `pod`); a step that needs a value the labels do not give is skipped and said so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from bot.guard.door import Caller, Door
from bot.intake.target import Target, from_labels, workload_name
from bot.triage.diagnosis import Diagnosis, diagnose
from bot.triage.owners import resolve
from bot.triage.reads import MAX_ROUNDS, follow_ups, key
from bot.triage.steps import within_step
from knowledge.outcomes import Outcomes, Recommendation
from knowledge.playbooks import Playbook
from knowledge.store import KnowledgeStore
from tools.base import Status, ToolResult

NOT_FOUND = ("not found", "does not exist")


class Proposal(BaseModel):
    """A remediation the diagnosis supports; run it only through the door (the policy decides)."""

    tool: str
    args: dict[str, Any]
    when: str
    recommended: bool = False
    reason: str | None = Field(None, description="what past outcomes of this action say")


@dataclass(frozen=True)
class Asked:
    """A service someone asked about (or an alert's labels), in the shape the diagnosis reads."""

    name: str
    labels: Mapping[str, str]
    starts_at: datetime | None = None
    expr: str | None = None
    service_first: bool = True  # False: the labels name the object as an alert's do (an exporter's is skipped)

    @property
    def target(self) -> Target:
        """The service asked about, whatever other labels say (an alert's node, say); or, not service first,
        the object the labels name, as for an alert."""
        svc, ns = self.labels.get("service"), self.labels.get("namespace")
        return Target(namespace=ns, kind="Deployment", name=svc, workload_kind="Deployment", workload=svc,
                      via="service") if svc and self.service_first else from_labels(self.labels)

    @property
    def namespace(self) -> str | None:
        return self.labels.get("namespace")

    @property
    def service(self) -> str | None:
        return self.labels.get("service") if self.service_first else workload_name(self.labels)


class Troubleshooting(BaseModel):
    namespace: str | None
    service: str | None
    found: bool = True
    message: str
    playbook: Playbook | None = None
    matched_by: str | None = None
    evidence: list[ToolResult] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    proposals: list[Proposal] = Field(default_factory=list)
    diagnosis: Diagnosis | None = None

    def evidence_text(self) -> str:
        """Everything the reads returned, as one string (for searching and for tests)."""
        return "\n".join(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) for r in self.evidence)


def placeholder_values(namespace: str | None, service: str | None, labels: Mapping[str, str],
                       target: Target | None = None) -> dict[str, str]:
    """Playbook placeholders from the target: the deployment a pod belongs to, not an exporter's `service`."""
    target = target or from_labels(labels)
    values = {"namespace": namespace or target.namespace, "pod": labels.get("pod"),
              "service": service or target.deployment or workload_name(labels)}
    values["deployment"] = target.deployment or values["service"]
    return {k: v for k, v in values.items() if v}


def troubleshoot(door: Door, store: KnowledgeStore, caller: Caller, namespace: str | None = None,
                 service: str | None = None, *, alert: str | None = None, labels: Mapping[str, str] | None = None,
                 text: str = "", outcomes: Outcomes | None = None) -> Troubleshooting:
    """Run the matching playbook's diagnosis for a service (or an alert's labels); see the module doc."""
    if alert is None:  # a named object on a cluster the settings do not name: refused before anything is read
        try:
            door.ctx.on_cluster(caller.cluster)
        except LookupError as e:
            return Troubleshooting(namespace=namespace, service=service, found=False, message=str(e))
    labels = dict(labels or {})
    values = placeholder_values(namespace, service, labels, resolve(door, caller, from_labels(labels)))
    ns, svc = values.get("namespace"), values.get("service")
    if not ns or not svc:
        return Troubleshooting(namespace=ns, service=svc, found=False,
                               message="troubleshoot needs a namespace and a service (or alert labels with both)")
    labels = {**labels, "namespace": ns, "service": svc}
    run = _Runner(door, caller)
    if alert:
        hits = store.match_playbooks(alert, labels, text, k=1)
    else:
        unknown = run.probe(values)
        if unknown:
            return Troubleshooting(namespace=ns, service=svc, found=False, message=unknown, evidence=run.results)
        hits = _match_probe(store, labels, run.alerts, [" ".join([text, *run.pod_signals]), " ".join(run.signals)])
    if hits:
        pb, why = hits[0].playbook, hits[0].matched_by
    else:
        pb = next((p for p in store.playbooks().values() if p.fallback), None)
        why = "no alert or known failure state found: general health check"
    if pb is None:
        return Troubleshooting(namespace=ns, service=svc, found=False, evidence=run.results,
                               message="no playbook matched and no fallback playbook is ingested; "
                                       "run `opsbot knowledge ingest`")
    skipped = run.steps(pb, values)
    changed = ("k8s_changes", {"namespace": ns, "since": "6h"})  # what changed, as alert triage reads it
    if key(changed) not in run.done:
        run.run(*changed)
    run.follow()
    diagnosis = within_step(diagnose(Asked(name=alert or f"troubleshoot {svc}", labels=labels), run.results),
                            door.gate.engine)
    rec = outcomes.recommended_action(pb) if outcomes else None
    found = f"; {diagnosis.line()}" if diagnosis else "; no failure mode recognised"
    return Troubleshooting(namespace=ns, service=svc, playbook=pb, matched_by=why, evidence=run.results,
                           skipped=skipped, proposals=_proposals(pb, rec, diagnosis), diagnosis=diagnosis,
                           message=f"{ns}/{svc}: playbook {pb.name} ({why}); {len(run.results)} reads, "
                                   f"{sum(r.status == Status.error for r in run.results)} failed{found}")


def _match_probe(store: KnowledgeStore, labels: dict[str, str], alerts: list[str], texts: list[str]) -> list[Any]:
    """A firing alert a playbook lists wins, then a signal word, pods' states before the deployment's
    conditions (a crash loop also stalls the rollout); plain similarity is not enough here."""
    for name in alerts:
        hits = store.match_playbooks(name, labels, texts[0], k=1)
        if hits and hits[0].matched_by.startswith("alert"):
            return hits
    for text in texts:
        hits = store.match_playbooks(None, labels, text, k=1)
        if hits and hits[0].matched_by.startswith("signal"):
            return hits
    return []


class _Runner:
    """Runs reads through the door, once each, and keeps what the probe learned."""

    def __init__(self, door: Door, caller: Caller):
        self.door, self.caller = door, caller
        self.results: list[ToolResult] = []
        self.done: set[str] = set()
        self.alerts: list[str] = []
        self.signals: list[str] = []  # the deployment's rollout status and conditions
        self.pod_signals: list[str] = []  # unhealthy pods' states, termination reasons, exit codes

    def run(self, tool: str, args: dict[str, Any]) -> ToolResult:
        self.done.add(key((tool, args)))
        result = self.door.run(tool, args, self.caller)
        self.results.append(result)
        return result

    def probe(self, v: dict[str, str]) -> str | None:
        """The deployment, its firing alerts, its unhealthy pods; a message if the service does not exist."""
        ns, dep = v["namespace"], v["deployment"]
        d = self.run("k8s_describe", {"namespace": ns, "kind": "Deployment", "name": dep})
        if d.status == Status.error and any(s in (d.error or "") for s in NOT_FOUND):
            return f"no service '{dep}' in namespace '{ns}': {d.error}"
        if d.status == Status.success and isinstance(d.data, dict):
            self.signals.append(str(d.data.get("rollout", "")))
            self.signals += [str(c.get("reason") or "") for c in d.data.get("conditions", [])]
        a = self.run("prom_alerts", {"state": "firing", "namespace": ns, "service": v["service"]})
        if a.status == Status.success:
            self.alerts = [x["alertname"] for x in a.data["alerts"] if x.get("state") == "firing"]
        p = self.run("k8s_list", {"namespace": ns, "deployment": dep, "only_unhealthy": True})
        if p.status == Status.success:
            for row in p.data["pods"]:
                last = row.get("last_termination") or {}
                self.pod_signals += [str(row["status"]), str(last.get("reason") or ""),
                                     str(last.get("exit_code") or "")]
        return None

    def steps(self, pb: Playbook, values: dict[str, str]) -> list[str]:
        skipped = []
        for step in pb.diagnosis:
            missing = sorted(step.needs - values.keys())
            if missing:
                skipped.append(f"{step.render()}: no value for {', '.join('{' + m + '}' for m in missing)}")
                continue
            args = step.fill(values)
            if key((step.tool, args)) not in self.done:
                self.run(step.tool, args)
        return skipped

    def follow(self) -> None:
        """What the answers point at (reads.follow_ups), round after round, as alert triage reads it."""
        for _ in range(MAX_ROUNDS):
            checks = follow_ups(self.results, self.done)
            if not checks:
                return
            for tool, args in checks:
                self.run(tool, args)


def _proposals(pb: Playbook, rec: Recommendation | None, diagnosis: Diagnosis | None) -> list[Proposal]:
    """The diagnosis's rollback, with the playbook's words for when it is right, and the restart or scale its
    mechanism calls for; nothing else."""
    if diagnosis is None:
        return []
    out = []
    if diagnosis.rollback is not None:
        action = next((a for a in pb.remediation if a.tool == "k8s_rollback"), None)
        reason = rec.reason if rec and rec.action == "k8s_rollback" else None
        out.append(Proposal(tool="k8s_rollback", args=diagnosis.rollback, recommended=True, reason=reason,
                            when=f"{action.when if action else 'the failure began with the running pod template'}: "
                                 f"back to {diagnosis.rollback_note}"))
    if diagnosis.action is not None:
        a = diagnosis.action
        out.append(Proposal(tool=a.tool, args=a.args, recommended=True,
                            reason=rec.reason if rec and rec.action == a.tool else None, when=a.why))
    return out
