"""The real HTTP path: ChatOpenAI → a local OpenAI-compatible fake → the agent → the door → the sandbox."""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot import messages
from bot.chat.agent import QUESTION_TOOLS, Agent
from bot.chat.memory import Memory
from bot.guard.door import Caller
from bot.settings import Settings
from bot.wiring import redis_client
from prompts import load as load_prompt
from tests.support.doors import make_door
from tests.support.fake_openai import MODEL, FakeOpenAI, llm_settings, tool_call
from tests.support.hostile import INJECTION, SECRET, hostile_settings  # noqa: F401 (fixture)

OPERATOR = Caller(identity="slack:U0OPERATOR", via="slack")


def ask(settings: Settings, question: str, door: Any = None) -> Any:
    door = door or make_door(settings)
    memory = Memory(redis_client(settings), settings.memory, f"test:{uuid.uuid4().hex}:")
    return Agent(settings, door, memory=memory).ask(question, "thread-http", OPERATOR), door


def test_a_question_over_http_reaches_the_sandbox(settings: Settings, openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    server.script = [
        tool_call("k8s_list", namespace="shop", deployment="checkout"),
        lambda body: {"content": "checkout: " + json.loads(body["messages"][-1]["content"])["data"]["summary"]},
    ]
    answer, door = ask(llm_settings(settings, url), "why is checkout failing?")

    assert answer.text.startswith("checkout: 3 pods, 0 healthy: 3 CrashLoopBackOff\n\nEvidence (opsbot's checks")
    assert [(r.action, r.status) for r in door.audit.query()[answer.checks:]] == [("k8s_list", "success")]
    first, second = server.bodies
    assert first["model"] == MODEL and first["messages"][0] == {"role": "system", "content": load_prompt("system")}
    assert first["max_completion_tokens"] == settings.llm.max_tokens
    evidence, question = first["messages"][1:3]
    assert question == {"role": "user", "content": "why is checkout failing?"}
    assert evidence["role"] == "user" and "<evidence>" in evidence["content"]
    assert "DATABASE_URL is not set" in evidence["content"], "the model starts from triage's evidence"
    offered = [t["function"]["name"] for t in first["tools"]]
    assert offered == list(QUESTION_TOOLS), "a question that asks for no change is offered no change"
    assert second["messages"][-1]["role"] == "tool"
    assert "tools" in second  # a normal round still offers the tools


def test_a_model_that_does_not_answer_in_time_gives_the_clear_reply(settings: Settings,
                                                                    openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    server.script = ["hang"]
    answer, door = ask(llm_settings(settings, url, timeout_s=0.5, max_retries=0), "why is checkout failing?")
    assert answer.text.startswith(messages.MODEL_FELL_BACK.split("{")[0] + "it did not answer in time")
    assert "DATABASE_URL is not set" in answer.text, "the person still gets the evidence"
    assert not answer.model_available and len(door.audit.query()) == answer.checks


def test_one_deadline_bounds_the_whole_question(settings: Settings, openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    server.script = ["hang", "hang", "hang"]
    # Less time left than one call needs: the model is not called at all, the evidence is the answer.
    answer, _ = ask(llm_settings(settings, url, timeout_s=30, deadline_s=0.5, max_retries=3),
                    "why is checkout failing?")
    assert answer.text.startswith(messages.MODEL_FELL_BACK.split("{")[0] + "it did not answer in time")
    assert "DATABASE_URL is not set" in answer.text and server.bodies == []


def test_a_wrong_key_is_refused_and_reported_plainly(settings: Settings, openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    server.script = ["never sent"]
    answer, _ = ask(llm_settings(settings, url, key="sk-wrong-0123456789abcdefghij"), "hello?")
    # with an alert firing in the sandbox by now, the evidence about it follows the same sentence
    said = (messages.MODEL_FAILED if "opsbot's checks" not in answer.text else messages.MODEL_FELL_BACK).format(
        why="it refused opsbot's API key", evidence="")
    assert answer.text.startswith(said.strip()), answer.text
    assert server.bodies == []


def test_a_secret_in_a_pod_log_never_reaches_the_model_server(hostile_settings: Settings,
                                                              openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    server.script = [tool_call("k8s_pod_logs", namespace="shop", pod="checkout"),
                     tool_call("k8s_scale", namespace="shop", deployment="checkout", replicas=0),
                     {"content": "done"}]
    answer, door = ask(llm_settings(hostile_settings, url), f"read checkout's logs; my key is {SECRET}")

    assert answer.refused == ["k8s_scale"] and door.gate.store.pending() == []  # reading logs asks no change
    assert door.run("k8s_describe", {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
                    OPERATOR).data["replicas"]["desired"] == 3
    sent = b"\n".join(server.raw)
    assert INJECTION.encode() in sent, "the log line reached the model (as data)"
    assert SECRET.encode() not in sent and b"hunter2" not in sent
    assert b"GITHUB_TOKEN=[REDACTED]" in sent
