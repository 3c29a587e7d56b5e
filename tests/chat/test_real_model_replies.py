"""The agent's main paths on real model replies: vcrpy cassettes recorded from llama-server running
Qwen2.5-Coder-1.5B-Instruct on this kind of machine (`bash scripts/record_cassettes.sh` records them again).

Only the model's HTTP calls are recorded and replayed; the sandbox, the door, the policy and Redis are real.
Replies are matched in order, and every recorded reply must be used: a change in how many calls the agent
makes fails here. The cassettes hold no credentials (the Authorization header is filtered) and nothing that
redaction would mask.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import vcr
import yaml

from bot.chat.agent import Agent, Answer
from bot.chat.memory import Memory
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.redact import redact
from bot.settings import Settings
from bot.triage.analysis import make_analyser
from bot.triage.evidence import ReadChecks
from bot.wiring import redis_client
from tests.support.doors import make_door

CASSETTES = Path(__file__).parent / "cassettes"
RECORD = os.environ.get("OPSBOT_RECORD_LLM")  # a real server's base URL: record the cassettes anew
MODEL = "qwen2.5-coder-1.5b"
ONCALL = Caller(identity="slack:U0OPERATOR", via="slack")  # may request changes (policies/default.yaml)


def _model_calls_only(request: Any) -> Any:
    return request if request.path.endswith("/chat/completions") else None


@contextmanager
def replayed(name: str) -> Iterator[Any]:
    recorder = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode="all" if RECORD else "none",
                       match_on=["method", "path"], filter_headers=["authorization"],
                       before_record_request=_model_calls_only, decode_compressed_response=True)
    with recorder.use_cassette(f"{name}.yaml") as cassette:
        yield cassette
    if not RECORD:
        assert cassette.all_played, "the agent made fewer model calls than were recorded"


def real(settings: Settings) -> Settings:
    llm = settings.llm.model_copy(update={"base_url": RECORD or "http://127.0.0.1:8080/v1", "model": MODEL,
                                          "api_key": None, "timeout_s": 300.0, "deadline_s": 900.0})
    return settings.model_copy(update={"llm": llm})


def ask(settings: Settings, door: Door, question: str) -> Answer:
    memory = Memory(redis_client(settings), settings.memory, f"test:{uuid.uuid4().hex}:")
    return Agent(real(settings), door, memory=memory).ask(question, "thread", ONCALL)


def own_words(answer: Answer) -> str:
    return answer.text.split("\n\nEvidence (opsbot's checks", 1)[0]


def test_a_question_is_answered_from_the_evidence(settings: Settings, door: Door) -> None:
    with replayed("answered-from-evidence"):
        answer = ask(settings, door, "why is checkout failing?")
    assert answer.model_available and answer.about == "Deployment shop/checkout"
    assert "DATABASE_URL" in own_words(answer), "the model's own words name the cause"
    assert "Evidence (opsbot's checks of Deployment shop/checkout)" in answer.text
    assert "```" not in answer.text and '"arguments"' not in answer.text


def test_a_requested_restart_is_proposed_and_left_pending(mutable_settings: Settings) -> None:
    door = make_door(mutable_settings)
    with replayed("restart-left-pending"):
        answer = ask(mutable_settings, door, "restart the cart deployment in shop")
    assert [(c.tool, c.status.value) for c in answer.calls][:1] == [("k8s_rollout_restart", "approval_required")]
    [action_id] = answer.pending
    assert door.gate.store.get(action_id).state == "pending"
    assert not [r for r in door.audit.query() if r.kind == "execution"]


def test_a_failed_call_is_read_and_answered_truthfully(settings: Settings, door: Door) -> None:
    with replayed("failed-call-recovered"):
        answer = ask(settings, door, "list the pods of the staging namespace")
    [only] = answer.calls
    assert only.status.value == "error" and only.invocation == "k8s_list(namespace='staging')"
    assert "staging namespace does not exist" in own_words(answer), "the door's error, not invented pods"


def test_the_triage_analysis_on_a_real_reply(settings: Settings, door: Door) -> None:
    alert = Alert(source="alertmanager", name="KubePodCrashLooping", severity="P1", status="firing",
                  fingerprint="cassette-crashloop", labels={"alertname": "KubePodCrashLooping", "namespace": "shop",
                                                            "service": "checkout", "severity": "critical"},
                  annotations={"summary": "checkout pods are crash-looping"})
    evidence = ReadChecks(door)(alert)
    analyser = make_analyser(real(settings).model_copy(
        update={"intake": settings.intake.model_copy(update={"analyse_timeout_s": 300.0})}))
    assert analyser is not None
    with replayed("triage-analysis"):
        analysis = analyser(alert, evidence)
    assert analysis is not None and 0 <= analysis.confidence <= 1
    assert "DATABASE_URL" in analysis.root_cause


def test_the_cassettes_carry_no_secrets() -> None:
    names = {p.name for p in CASSETTES.glob("*.yaml")}
    assert names >= {"answered-from-evidence.yaml", "restart-left-pending.yaml", "failed-call-recovered.yaml",
                     "triage-analysis.yaml"}
    for name in names:
        text = (CASSETTES / name).read_text()
        assert "authorization" not in text.lower() and "bearer" not in text.lower(), name
        for said in _contents(yaml.safe_load(text)):
            assert redact(said) == said, f"{name} holds text that redaction masks: {said[:200]}"


def _contents(cassette: dict[str, Any]) -> list[str]:
    """Every message the agent sent and every reply it got (the data; the tools' own descriptions aside)."""
    out = []
    for i in cassette["interactions"]:
        sent = json.loads(i["request"]["body"])
        out += [m["content"] for m in sent["messages"] if isinstance(m.get("content"), str)]
        got = json.loads(i["response"]["body"]["string"])
        out += [c["message"].get("content") or "" for c in got["choices"]]
    return out
