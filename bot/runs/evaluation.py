"""`opsbot eval`: each scenario through the real alert path, its card scored against the scenario's `expect`.

Per scenario: load it into the sandbox (Prometheus fires its alert, Alertmanager delivers it to opsbot's
webhook; a Sentry event is posted to the Sentry webhook, signed), let a worker triage it without approving
anything, and score the first card: posted and how fast, the failure mode and playbook, each expected evidence
string found word for word in the card's text or its thread (bot.cards.thread: one tap away), each expected
diagnosis string in its one-line diagnosis, the actions proposed against the expected ones (and every proposed
action the scenario does not expect). Nothing here is specific to the shipped scenarios: any valid
scenario file runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr

from bot.cards.model import Card
from bot.cards.poster import ConsolePoster
from bot.cards.text import render_text, render_thread_text
from bot.polling import poll
from bot.runs.served import served
from bot.settings import Settings, load_settings
from sandbox import procs, scenario
from sandbox.manager import Sandbox
from sandbox.scenario import ExpectedAction, Scenario, SentryEvent

SENTRY_SECRET = "opsbot-eval"  # the eval's own Sentry client secret: it signs what it posts


class Found(BaseModel):
    text: str
    found: bool


class Proposed(BaseModel):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    status: str = ""


class Score(BaseModel):
    scenario: str
    file: str
    card: bool = False
    seconds: float | None = None
    failure_mode: str | None = None
    playbook: str | None = None
    expected_playbook: str | None = None
    evidence: list[Found] = Field(default_factory=list)
    diagnosis: list[Found] = Field(default_factory=list, description="the expected words in the diagnosis line")
    diagnosis_line: str = ""
    expected_actions: list[Proposed] = Field(default_factory=list)
    proposed: list[Proposed] = Field(default_factory=list)
    missing_actions: list[Proposed] = Field(default_factory=list)
    unexpected_actions: list[Proposed] = Field(default_factory=list)
    error: str | None = None
    card_text: str = ""
    thread_text: str = Field("", description="the card's thread: every evidence line, the playbook, …")
    card_data: dict[str, Any] | None = Field(None, description="the Card itself (its JSON): what renderers and "
                                             "bench/card_budget.py read")

    @property
    def playbook_ok(self) -> bool:
        return self.expected_playbook is None or self.playbook == self.expected_playbook

    @property
    def passed(self) -> bool:
        return (self.card and all(e.found for e in [*self.evidence, *self.diagnosis]) and not self.missing_actions
                and not self.unexpected_actions and self.playbook_ok)


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder's `*.yaml` sorted; nothing given: the shipped scenarios."""
    out: list[Path] = []
    for path in paths:
        out += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return out or sorted(scenario.SCENARIO_DIR.glob("*.yaml"))


def matches(expected: ExpectedAction | Proposed, proposed: Proposed) -> bool:
    return expected.tool == proposed.tool and all(
        str(proposed.args.get(k)) == str(v) for k, v in expected.args.items())


def score(sc: Scenario, file: str, card: Card | None, seconds: float | None) -> Score:
    s = Score(scenario=sc.name, file=file, expected_playbook=sc.expect.playbook,
              expected_actions=[Proposed(tool=a.tool, args=a.args) for a in sc.expect.actions])
    if card is None:
        s.evidence = [Found(text=t, found=False) for t in sc.expect.evidence]
        s.diagnosis = [Found(text=t, found=False) for t in sc.expect.diagnosis]
        s.missing_actions = list(s.expected_actions)
        return s
    text, thread = render_text(card), render_thread_text(card)
    s.card, s.seconds, s.card_text, s.thread_text = True, seconds, text, thread
    s.card_data = card.model_dump(mode="json")
    s.failure_mode, s.playbook = card.failure_mode, card.playbook.name if card.playbook else None
    s.evidence = [Found(text=t, found=t in text or t in thread) for t in sc.expect.evidence]
    s.diagnosis_line = " ".join(x for x in (card.diagnosis, card.diagnosis_source) if x)
    s.diagnosis = [Found(text=t, found=t in s.diagnosis_line) for t in sc.expect.diagnosis]
    s.proposed = [Proposed(tool=a.tool, args=a.args, status=a.status) for a in card.actions]
    s.missing_actions = [e for e in s.expected_actions if not any(matches(e, p) for p in s.proposed)]
    s.unexpected_actions = [p for p in s.proposed if not any(matches(e, p) for e in s.expected_actions)]
    return s


def sentry_delivery(ev: SentryEvent, now: float) -> tuple[bytes, dict[str, str]]:
    """An `event_alert` delivery as Sentry sends it when an issue alert rule fires, signed with the secret."""
    event = {"event_id": uuid.uuid4().hex, "issue_id": ev.issue_id, "title": ev.title, "culprit": ev.culprit,
             "level": ev.level, "project": ev.project, "tags": [[k, v] for k, v in ev.tags.items()],
             "web_url": f"https://sentry.example.com/organizations/example/issues/{ev.issue_id}/"}
    body = json.dumps({"action": "triggered", "data": {"event": event, "triggered_rule": ev.triggered_rule}},
                      separators=(",", ":")).encode()
    signature = hmac.new(SENTRY_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "Sentry-Hook-Resource": "event_alert",
                  "Sentry-Hook-Timestamp": str(int(now)), "Sentry-Hook-Signature": signature}


def settings_for(sb: Sandbox, knowledge_dir: Path) -> Settings:
    s = load_settings(sb.settings_file)
    return s.model_copy(update={
        "knowledge": s.knowledge.model_copy(update={"path": knowledge_dir}),
        "webhooks": s.webhooks.model_copy(update={"sentry_client_secret": SecretStr(SENTRY_SECRET)}),
    })


def run_one(sb: Sandbox, sc: Scenario, file: str, knowledge_dir: Path, timeout_s: float) -> Score:
    """Load the scenario, deliver its alerts through the real path and score the first card."""
    with sb.run_port() as port:
        sb.load(sc)
        return _score_served(sb, sc, file, knowledge_dir, timeout_s, port)


def _score_served(sb: Sandbox, sc: Scenario, file: str, knowledge_dir: Path, timeout_s: float, port: int) -> Score:
    console, started = ConsolePoster(), time.monotonic()
    with served(settings_for(sb, knowledge_dir), console, "eval", workers=1, learn=False, port=port):
        card = first_card(sc, port, console, timeout_s)
        return score(sc, file, card, round(time.monotonic() - started, 1) if card else None)


def first_card(sc: Scenario, port: int, console: ConsolePoster, timeout_s: float,
               interval_s: float = 0.5) -> Card | None:
    """Post the scenario's Sentry events to opsbot's webhook (its alerts come through Alertmanager), then wait
    for the first firing card."""
    for ev in sc.sentry:
        body, headers = sentry_delivery(ev, time.time())
        httpx.post(f"http://127.0.0.1:{port}/webhooks/sentry", content=body, headers=headers,
                   timeout=10).raise_for_status()
    return poll(lambda: next((h.card for h in console.history if h.op == "post"
                              and h.card.status == "firing"), None), timeout_s, interval_s=interval_s)


Loaded = tuple[Path, Scenario | str]


def load_all(files: list[Path]) -> list[Loaded]:
    """Each file's scenario, or why it is not a valid one (reported, and the run goes on)."""
    out: list[Loaded] = []
    for path in files:
        try:
            out.append((path, scenario.load(str(path))))
        except scenario.ScenarioError as e:
            out.append((path, str(e)))
    return out


def run(sb: Sandbox | None, loaded: list[Loaded], workdir: Path, timeout_s: float = 90,
        progress: Callable[[Score], None] = lambda s: None) -> list[Score]:
    """Score each loaded scenario in turn on the sandbox (None: every file was invalid)."""
    scores = []
    for path, sc in loaded:
        if isinstance(sc, str) or sb is None:
            s = Score(scenario=path.stem, file=str(path), error=str(sc))
        else:
            try:
                s = run_one(sb, sc, str(path), workdir / "knowledge", timeout_s)
            except (procs.SandboxError, httpx.HTTPError) as e:
                s = score(sc, str(path), None, None)
                s.error = f"{type(e).__name__}: {e}"
        scores.append(s)
        progress(s)
    return scores


def line(s: Score) -> str:
    """One line per scenario, then what fell short."""
    if s.error and not s.card:
        return f"ERROR {s.scenario}: " + "\n    ".join(s.error.splitlines())
    found = sum(e.found for e in s.evidence)
    head = (f"{'PASS' if s.passed else 'FAIL'} {s.scenario:<40} "
            f"{f'{s.seconds:.0f}s' if s.card else 'no card':>7}  mode {s.failure_mode or '-'}  "
            f"playbook {s.playbook or '-'}{'' if s.playbook_ok else f' (expected {s.expected_playbook})'}  "
            f"evidence {found}/{len(s.evidence)}  "
            f"diagnosis {sum(e.found for e in s.diagnosis)}/{len(s.diagnosis)}  actions {len(s.expected_actions) - len(s.missing_actions)}/"
            f"{len(s.expected_actions)}, {len(s.unexpected_actions)} unexpected")
    more = [f"    missing evidence: {e.text!r}" for e in s.evidence if not e.found]
    more += [f"    not in the diagnosis ({s.diagnosis_line!r}): {e.text!r}" for e in s.diagnosis if not e.found]
    more += [f"    missing action: {a.tool} {a.args}" for a in s.missing_actions]
    more += [f"    unexpected action: {a.tool} {a.args}" for a in s.unexpected_actions]
    return "\n".join([head, *more])


def totals(scores: list[Score]) -> dict[str, Any]:
    evidence = [e for s in scores for e in s.evidence]
    expected = sum(len(s.expected_actions) for s in scores)
    return {
        "scenarios": len(scores), "cards": sum(s.card for s in scores), "passed": sum(s.passed for s in scores),
        "evidence_found": sum(e.found for e in evidence), "evidence_expected": len(evidence),
        "diagnosis_found": sum(e.found for s in scores for e in s.diagnosis),
        "diagnosis_expected": sum(len(s.diagnosis) for s in scores),
        "playbook_matched": sum(s.playbook_ok and s.expected_playbook is not None for s in scores),
        "playbook_expected": sum(s.expected_playbook is not None for s in scores),
        "actions_proposed_as_expected": expected - sum(len(s.missing_actions) for s in scores),
        "actions_expected": expected, "unexpected_actions": sum(len(s.unexpected_actions) for s in scores),
        "seconds_per_card_max": max((s.seconds or 0 for s in scores), default=0),
    }


def report(scores: list[Score]) -> dict[str, Any]:
    return {"totals": totals(scores),
            "scores": [{**s.model_dump(mode="json"), "passed": s.passed} for s in scores]}
