"""No secret shape reaches any surface: over 150 shapes (and a PEM key split over log lines) planted where
secrets really turn up, then searched for everywhere opsbot writes or sends text; ordinary lines that look like
them come out of the masking unchanged.

Planted in: checkout's pod logs (current and previous container), a Kubernetes event, Elasticsearch log
documents, an Alertmanager alert's annotations and labels, a Sentry issue's title and culprit.
Searched in: the four card renderers and the stored cards, the Sentry comment, chat command replies and the
agent's answer, every request the OpenAI-compatible fake received (triage's analysis and the agent), the
knowledge store, every key opsbot wrote to Redis, the structlog and stdlib log output, the audit trail.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
import structlog
from pydantic import SecretStr

from bench.secrets_corpus import CORPUS, NEAR_MISSES, PEM_LINES, PEM_SECRETS
from bot import wiring
from bot.cards.poster import ConsolePoster
from bot.cards.sentry_comment import render_sentry_comment
from bot.cards.slack import render_slack
from bot.cards.telegram import render_telegram
from bot.cards.text import render_text
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.intake.webhooks.server import ThreadedServer
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode, sentry_headers, sentry_issue
from bot.logging import configure
from bot.redact import redact
from bot.settings import Settings
from bot.triage.analysis import make_analyser
from bot.triage.knowledge_hook import KnowledgeTriage
from knowledge.store import KnowledgeStore
from tests.support.alerting import pipeline, quiet_settings, serving, wait_for
from tests.support.doors import make_door
from tests.support.fake_openai import KEY, MODEL, FakeOpenAI, llm_settings, serve, tool_call
from tests.support.fake_sentry import FakeSentry
from tests.support.planting import plant_cluster, planted_logs

LINES = [line for _, line, _ in CORPUS]
SHAPES = {name: line for name, line, _ in CORPUS}
SECRETS = [secret for _, _, secret in CORPUS] + PEM_SECRETS
HOOK_SECRET, SENTRY_TOKEN = "whsec-corpus", "sntrys_corpus_token"


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_the_corpus_holds_at_least_150_shapes() -> None:
    assert len({name for name, _, _ in CORPUS}) == len(CORPUS) >= 150
    assert all(secret in line for _, line, secret in CORPUS)
    assert len(set(NEAR_MISSES)) == len(NEAR_MISSES) >= 40


@pytest.mark.parametrize(("name", "line", "secret"), CORPUS, ids=[c[0] for c in CORPUS])
def test_each_shape_is_masked_in_its_line(name: str, line: str, secret: str) -> None:
    masked = redact(line)
    assert secret not in masked and "[REDACTED" in masked


@pytest.mark.parametrize("line", NEAR_MISSES)
def test_each_near_miss_stays_readable(line: str) -> None:
    assert redact(line) == line


def _redis_text(client: redis.Redis) -> str:
    """Every value in the Redis database, whatever its type."""
    parts = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            parts.append(repr(client.get(key)))
        elif kind == "hash":
            parts.append(repr(client.hgetall(key)))
        elif kind == "list":
            parts.append(repr(client.lrange(key, 0, -1)))
        elif kind == "set":
            parts.append(repr(client.smembers(key)))
        elif kind == "zset":
            parts.append(repr(client.zrange(key, 0, -1)))
        elif kind == "stream":
            parts.append(repr(client.xrange(key)))
    return "\n".join(p.encode().decode("unicode_escape", "replace") for p in parts)


@pytest.fixture
def planted(mutable_settings: Settings, private_k8s: tuple) -> Iterator[Settings]:
    state, port = private_k8s
    plant_cluster(state, port, [*LINES, *PEM_LINES, *NEAR_MISSES], previous_logs=[*LINES[:40], *PEM_LINES],
                  events=["MountVolume.SetUp failed: " + "; ".join(LINES[:30])])
    with planted_logs(mutable_settings, [*LINES, *PEM_LINES]) as s:
        yield s.model_copy(update={
            "limits": s.limits.model_copy(update={"max_result_chars": 400_000, "max_items": 500})})


@pytest.fixture
def model() -> Iterator[tuple[FakeOpenAI, str]]:
    f = FakeOpenAI(KEY, MODEL)
    with serve(f) as url:
        yield f, url


@pytest.fixture
def sentry() -> Iterator[tuple[FakeSentry, str]]:
    f = FakeSentry(token=SENTRY_TOKEN)
    with ThreadedServer(f.app()) as server:
        yield f, server.url


def parrot(body: dict) -> dict:
    """A model that repeats what it was given: whatever reached it would come back on the card."""
    given = " ".join(str(m.get("content") or "") for m in body["messages"])[-3000:]
    return {"content": json.dumps({"summary": given[:600], "root_cause": given[-600:], "confidence": 0.5,
                                   "impact": "checkout is down", "fix": given[:300], "prevention": "rotate"})}


def test_no_secret_shape_reaches_any_surface(planted: Settings, model: tuple[FakeOpenAI, str],
                                              sentry: tuple[FakeSentry, str], knowledge: KnowledgeStore,
                                              caplog: pytest.LogCaptureFixture) -> None:
    fake_model, model_url = model
    fake_sentry, sentry_url = sentry
    s = quiet_settings(llm_settings(planted, model_url), sentry_client_secret=SecretStr(HOOK_SECRET))
    s = s.model_copy(update={"sentry": s.sentry.model_copy(update={
        "base_url": sentry_url, "token": SecretStr(SENTRY_TOKEN), "timeout_s": 5.0})})
    out = io.StringIO()
    configure("DEBUG", json=True, stream=out)
    caplog.set_level(logging.DEBUG)
    surfaces: dict[str, str] = {}
    try:
        fake_model.script = [parrot, parrot]  # triage's analysis of the two incidents
        door = make_door(s)
        p = pipeline(s, ConsolePoster(), door=door, collect=None, analyse=make_analyser(s))
        labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout",
                  "severity": "critical", "dsn": SHAPES["sentry dsn in env"]}
        am = encode(am_payload([am_alert(labels, {"summary": LINES[0], "description": "\n".join(LINES)})]))
        issue = sentry_issue("8080", "ConnectionError: " + " | ".join(LINES[:25]))
        issue["data"]["issue"]["culprit"] = " ".join(LINES[25:50])
        body = encode(issue)
        with serving(p, workers=1) as server:
            assert httpx.post(f"{server.url}/webhooks/alertmanager", content=am,
                              headers={"Content-Type": "application/json"}).status_code == 200
            assert httpx.post(f"{server.url}/webhooks/sentry", content=body,
                              headers=sentry_headers(HOOK_SECRET, body)).status_code == 200
            wait_for(lambda: p.cards.get("inc-1") and p.cards.get("inc-2") and fake_sentry.comments("8080"), 60,
                     "the two cards and the Sentry comment")
        cards = [p.cards.get("inc-1"), p.cards.get("inc-2")]
        for card in cards:
            assert card is not None and card.evidence, "triage collected evidence from the planted backends"
            surfaces[f"{card.incident_id} text"] = render_text(card)
            surfaces[f"{card.incident_id} slack"] = json.dumps(render_slack(card), ensure_ascii=False)
            surfaces[f"{card.incident_id} telegram"] = json.dumps(render_telegram(card), ensure_ascii=False)
            surfaces[f"{card.incident_id} sentry markdown"] = render_sentry_comment(card)
        surfaces["sentry comment"] = json.dumps(fake_sentry.comments("8080"), ensure_ascii=False)
        assert any("[REDACTED" in v for v in surfaces.values()), "the secrets were there to be masked"

        KnowledgeTriage(door, knowledge, wiring.outcomes(s, f"test:{uuid.uuid4().hex}:")).resolved(cards[0])
        stored = knowledge.incident_col.get(include=["documents", "metadatas"])
        surfaces["knowledge"] = json.dumps([stored["documents"], stored["metadatas"]], ensure_ascii=False)

        chat = Conversation(door, Agent(s, door), namespaces=["shop"])
        for command in ("logs checkout 1h", "events checkout", "pods checkout", "troubleshoot checkout"):
            surfaces[f"chat {command}"] = chat.command(command, "t-corpus", "slack:U0NOBODY").text
        fake_model.script = [tool_call("k8s_pod_logs", namespace="shop", pod="checkout", tail_lines=1000),
                             tool_call("logs_search", service="checkout", namespace="shop", since="last 1h"),
                             parrot]
        surfaces["agent answer"] = chat.ask("why is checkout failing?", "t-corpus", "slack:U0NOBODY").text
        surfaces["model requests"] = "\n".join(raw.decode("unicode_escape", "replace") for raw in fake_model.raw)
        surfaces["audit"] = json.dumps([r.model_dump(mode="json") for r in door.audit.query()], ensure_ascii=False)
        surfaces["redis"] = _redis_text(wiring.redis_client(s))
    finally:
        structlog.reset_defaults()
    surfaces["structlog"] = out.getvalue()
    surfaces["stdlib logs"] = caplog.text
    assert len(fake_model.bodies) >= 5, "triage's two analyses and the agent's three rounds reached the model"
    found = {name: leaks(text) for name, text in surfaces.items()}
    assert {name: hit for name, hit in found.items() if hit} == {}
    # the ordinary lines planted with them reached the model as they were written
    sent = surfaces["model requests"]
    assert [line for line in NEAR_MISSES if line not in sent and json.dumps(line)[1:-1] not in sent] == []
