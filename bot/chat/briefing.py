"""Evidence first: what a question is about, and what triage's reads and diagnosis say about it, before any
model is asked (and when none is configured, or it fails, this is the answer).

    brief(door, caller, "why is payments-api failing?", namespaces=["shop", "payments"]) -> Briefing

The subject is found in code, never guessed by a model:
1. an object named in the question (Deployment, StatefulSet, DaemonSet, CronJob, Job, Node, claim, then
   Pod; a workload whose pod it names), found in every namespace (a namespace named in the question, or a
   chat namespace, wins a tie); only then a word that begins exactly one name ("payments" → payments-api);
2. else a firing alert named in the question, or the most severe firing alert in a namespace the question
   names (naming none: in a chat namespace, else anywhere);
3. else a namespace named in the question: its unhealthy pods.
Then the same reads, follow-ups and diagnosis as alert triage (bot/triage/evidence.py) run through the door,
each audited under the asker's identity, and the past incidents most like it are searched in knowledge through the
door (`knowledge_search`, as the asker). `Briefing.for_model` is the evidence as the model reads it, with what was
found, done and decided in those past incidents (inside <evidence> delimiters the data cannot close, within one cap),
`Briefing.cites` the lines an answer rests on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import messages
from bot.guard.door import Caller, Door
from bot.redact import redact
from bot.triage.diagnosis import Diagnosis
from bot.triage.evidence import Evidence, evidence_of, gather
from bot.triage.troubleshoot import Asked
from tools.base import Status, ToolResult

MAX_MODEL_CHARS = 3000  # the evidence the model reads on its first call, past incidents included
MAX_PAST = 3  # past incidents briefed
PAST_MIN_SCORE = 0.5  # cosine similarity below which a past incident is not like this one (unrelated: 0.1-0.3)
PAST_PARTS = (60, 70, 120)  # characters of a past incident's title, what was found, what was done (its verdict)
QUERY_CHARS = 500  # knowledge_search's own bound on its text
MAX_FINDINGS = 14
MAX_CITES = 6
SUBJECT_KINDS = (("Deployment", "deployment"), ("StatefulSet", "statefulset"), ("DaemonSet", "daemonset"),
                 ("CronJob", "cronjob"), ("Job", "job_name"), ("Node", "node"),
                 ("PersistentVolumeClaim", "persistentvolumeclaim"), ("Pod", "pod"))
_WORD = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_ALERT_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][A-Za-z0-9]+)+\b")
_DELIMITER = re.compile(r"</?\s*evidence\s*>", re.IGNORECASE)

Progress = Callable[[str], None]


@dataclass
class Briefing:
    about: str | None = None  # "Deployment payments/payments-api", or None when the question names nothing
    why: str = ""  # how the subject was found
    evidence: Evidence = field(default_factory=Evidence)
    reads: int = 0  # every read through the door: finding the subject, then the evidence, then past incidents
    past: list[str] = field(default_factory=list)  # the past incidents like it, a line each (knowledge's words)

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self.evidence.diagnosis

    def cites(self) -> list[str]:
        """The lines an answer rests on: the diagnosis and its decisive quotes, then the first finding of
        each other check (the workload's image and revision, the newest warning, a telling log line…)."""
        d = self.diagnosis
        out = [d.line(), *d.quotes] if d else []
        checks: set[str] = set()
        for line in self.evidence.lines:
            if len(out) >= MAX_CITES:
                break
            if line.check == "diagnosis" or line.status != "ok" or line.check in checks or \
                    any(line.text in x for x in out):
                continue
            checks.add(line.check)
            out.append(line.text)
        return out[:MAX_CITES]

    def summary(self) -> str:
        """The evidence in a few lines for a person, when no model explains it."""
        if not self.about:
            return "opsbot found no workload, alert or namespace named in the question to check."
        parts = [f"opsbot's checks of {self.about} ({self.why}):"]
        parts += [f"• {line}" for line in self.cites()] or ["• no failure found in these reads"]
        d = self.diagnosis
        if d and d.advice:
            parts.append(f"What a person should do: {d.advice}")
        if d and d.rollback:
            parts.append(f"A rollback fits: rollback {d.rollback['namespace']}/{d.rollback['deployment']} "
                         f"(needs approval), back to {d.rollback_note}.")
        if d and d.action:
            parts.append(f"A {d.action.tool} fits ({', '.join(f'{k}={v}' for k, v in d.action.args.items())}, "
                         f"needs approval): {d.action.why}.")
        if self.evidence.could_not_run:
            parts.append(f"Could not run: {'; '.join(self.evidence.could_not_run[:3])}")
        if self.past:
            parts += [messages.PAST_FOR_PERSON, *self.past]
        return "\n".join(parts)

    def for_model(self, limit: int = MAX_MODEL_CHARS) -> str:
        if not self.about:
            body = "no workload, alert or namespace named in the question was found in the cluster"
        else:
            ev, d = self.evidence, self.diagnosis
            parts = [f"subject: {self.about} ({self.why})"]
            if d:
                parts.append(f"diagnosis: {d.line()}")
                parts += [f"decisive line: {q}" for q in d.quotes]
                if d.advice:
                    parts.append(f"what a person should do: {d.advice}")
                if d.rollback:
                    parts.append(f"a rollback fits: k8s_rollback namespace={d.rollback['namespace']} "
                                 f"deployment={d.rollback['deployment']}, back to {d.rollback_note}")
                if d.action:
                    parts.append(f"a {d.action.tool} fits: {d.action.tool} "
                                 f"{' '.join(f'{k}={v}' for k, v in d.action.args.items())}, {d.action.why}")
            else:
                parts.append("diagnosis: no failure mode recognised in these reads")
            parts.append("findings (check: finding):")
            parts += [f"- [{line.status}] {line.check}: {line.text}" for line in ev.lines[:MAX_FINDINGS]]
            parts += [f"- could not run: {x}" for x in ev.could_not_run]
            body = "\n".join(parts)
        past = redact("\n".join([messages.PAST_FOR_MODEL, *self.past])) if self.past else ""
        body = redact(body)
        limit -= len(past) + 1 if past else 0  # the past incidents keep their room within the one cap
        if len(body) > limit:
            body = body[:limit] + f"\n[cut: {len(body) - limit} more characters]"
        body = f"{body}\n{past}" if past else body
        return f"<evidence>\n{_DELIMITER.sub('(evidence)', body)}\n</evidence>"


def _words(question: str) -> set[str]:
    return set(_WORD.findall(question.lower()))


def _exact(names: list[tuple[str, str]], words: set[str], kind: str) -> list[tuple[str, str]]:
    """Names the question says; for a workload, also the one whose pod the question names (name-hash-id)."""
    pods = kind in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    return [n for n in names if n[1] in words or (pods and any(w.startswith(n[1] + "-") for w in words))]


def _begun(names: list[tuple[str, str]], words: set[str]) -> list[tuple[str, str]]:
    """The one name a word of the question begins ("payments" → payments-api), if only one."""
    found = [n for n in names if any(len(w) >= 4 and n[1].startswith(w + "-") for w in words)]
    return found if len({n[1] for n in found}) == 1 else []


def _preferred(found: list[tuple[str, str]], namespaces: list[str]) -> tuple[str, str]:
    rank = {ns: i for i, ns in enumerate(namespaces)}
    return min(found, key=lambda n: (rank.get(n[0], len(rank)), -len(n[1])))


def _names(door: Door, caller: Caller, kind: str, reads: list[ToolResult]) -> list[tuple[str, str]]:
    r = door.run("k8s_list", {"kind": kind}, caller)
    reads.append(r)
    if r.status != Status.success or not isinstance(r.data, dict):
        return []
    rows = r.data.get("pods" if kind == "Pod" else "items", [])
    return [(row.get("namespace", ""), row["name"]) for row in rows if row.get("name")]


def _alert(door: Door, caller: Caller, question: str, namespaces: list[str],
           reads: list[ToolResult]) -> Asked | None:
    r = door.run("prom_alerts", {"state": "firing"}, caller)
    reads.append(r)
    if r.status != Status.success or not isinstance(r.data, dict):
        return None
    alerts = [a for a in r.data.get("alerts", []) if a.get("state") == "firing"]
    named = set(_ALERT_NAME.findall(question))
    chosen = [a for a in alerts if a.get("alertname") in named] or \
        [a for a in alerts if (a.get("labels") or {}).get("namespace") in namespaces] or alerts
    if not chosen:
        return None
    top = chosen[0]  # prom_alerts answers the most severe first
    labels = {k: str(v) for k, v in (top.get("labels") or {}).items()}
    labels["alertname"] = str(top["alertname"])
    if top.get("severity"):
        labels["severity"] = str(top["severity"])
    since = top.get("since")
    starts = datetime.fromisoformat(since.replace("Z", "+00:00")) if isinstance(since, str) and since else None
    return Asked(name=str(top["alertname"]), labels=labels, starts_at=starts, service_first=False)


def find(door: Door, caller: Caller, question: str, namespaces: list[str],
         reads: list[ToolResult]) -> tuple[Asked, str, str] | None:
    """(subject, what it is, how it was found), or None; see the module doc for the order. Every read made
    is appended to `reads`."""
    words = _words(question)
    named_ns = [ns for ns in namespaces if ns in words]
    prefer = [*named_ns, *[ns for ns in namespaces if ns not in named_ns]]
    listed = {kind: _names(door, caller, kind, reads) for kind, _ in SUBJECT_KINDS}
    # A name the question says, of any kind, before a name one of its words only begins.
    for match in (lambda kind: _exact(listed[kind], words, kind), lambda kind: _begun(listed[kind], words)):
        for kind, label in SUBJECT_KINDS:
            found = match(kind)
            if found:
                ns, name = _preferred(found, prefer)
                where = {"namespace": ns} if ns else {}
                return Asked(name=f"question about {kind} {name}", labels={**where, label: name},
                             service_first=False), f"{kind} {ns + '/' if ns else ''}{name}", \
                    f"{kind.lower()} named in the question"
    alert = _alert(door, caller, question, named_ns or namespaces, reads)
    if alert:
        return alert, f"alert {alert.name} ({alert.namespace or 'cluster'})", "a firing alert"
    existing = {name for _, name in _names(door, caller, "Namespace", reads)} | set(namespaces)
    ns_words = sorted(words & existing)
    if ns_words:
        ns = ns_words[0]
        return Asked(name=f"question about namespace {ns}", labels={"namespace": ns}, service_first=False), \
            f"namespace {ns}", "namespace named in the question"
    return None


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _past_line(hit: dict[str, Any]) -> str:
    """'- KubePodCrashLooping: … (2026-11-10): found: crashloopbackoff; done: roll back … (fixed: …); outcome: resolved':
    the root cause the model gave it, else its failure mode; each action with its verdict; each part cut."""
    found = hit.get("root_cause") or hit.get("failure_mode") or "no cause recorded"
    done = "; ".join(hit.get("actions") or []) or "no action of opsbot's"
    return (f"- {_cut(str(hit.get('title', '?')), PAST_PARTS[0])} ({str(hit.get('started_at', ''))[:10]}): "
            f"found: {_cut(str(found), PAST_PARTS[1])}; done: {_cut(done, PAST_PARTS[2])}; "
            f"outcome: {hit.get('outcome', '?')}")


def past_incidents(door: Door, caller: Caller, about: str, evidence: Evidence) -> list[str]:
    """The past incidents most like what the question is about, searched through the door (one read, audited as
    the asker): a line each, the closest first, only those alike enough; a knowledge store that failed is said."""
    d = evidence.diagnosis
    text = " ".join([about, d.line() if d else "", *(line.text for line in evidence.lines[:6])])[:QUERY_CHARS]
    r = door.run("knowledge_search", {"text": text, "kind": "incidents", "k": MAX_PAST}, caller)
    if r.status == Status.error:
        return [messages.PAST_NOT_SEARCHED.format(why=_cut(r.error or "", sum(PAST_PARTS)))]
    if r.status != Status.success or not isinstance(r.data, dict):
        return []
    hits = [h for h in r.data.get("hits", []) if isinstance(h, dict) and (h.get("score") or 0) >= PAST_MIN_SCORE]
    return [_past_line(h) for h in hits[:MAX_PAST]]


def brief(door: Door, caller: Caller, question: str, namespaces: list[str],
          progress: Progress = lambda _: None, given: tuple[Asked, str, str] | None = None) -> Briefing:
    """The subject and its evidence (see the module doc); an empty Briefing when the question names nothing.
    `given`: the subject is already known (a question in an alert card's thread is about its incident)."""
    reads: list[ToolResult] = []
    found = given or find(door, caller, question, namespaces, reads)
    if found is None:
        return Briefing(reads=len(reads))
    subject, about, why = found
    progress(f"checking {about}…")
    target, results, _ = gather(door, caller, subject, lookups=reads)
    evidence = evidence_of(subject, target, results)
    past = past_incidents(door, caller, about, evidence)  # one more read
    return Briefing(about=about, why=why, evidence=evidence, reads=len(reads) + len(results) + 1, past=past)
