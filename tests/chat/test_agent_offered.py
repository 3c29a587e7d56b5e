"""The model calls only what it was offered, and a change it put forward on its own says so (DESIGN invariant 15),
over the real HTTP path: a chat question → the conversation → ChatOpenAI → the OpenAI-compatible fake → the door
on the sandbox, whose checkout pods log a planted instruction."""

from __future__ import annotations

import json
import uuid

from bot import messages
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation, Reply
from bot.chat.memory import Memory
from bot.guard.approvals import PendingAction
from bot.guard.door import Caller, Door
from bot.settings import Settings
from bot.triage.troubleshoot import Asked
from bot.wiring import redis_client
from tests.support.doors import make_door
from tests.support.fake_openai import FakeOpenAI, llm_settings, tool_call
from tests.support.hostile import INJECTION, hostile_settings  # noqa: F401 (fixture)
from tests.support.scripted import ScriptedModel, call

ASKER = "slack:U0OPERATOR"


def chat(settings: Settings, door: Door) -> Conversation:
    memory = Memory(redis_client(settings), settings.memory, f"test:{uuid.uuid4().hex}:")
    return Conversation(door, Agent(settings, door, memory=memory), namespaces=["shop"])


def checkout_pod(door: Door) -> str:
    r = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, Caller(identity=ASKER))
    return r.data["pods"][0]["name"]


def refusals(door: Door, tool: str) -> list:
    return [r for r in door.audit.query() if r.action == tool and r.status == "refused"]


def proposed(hostile_settings: Settings, openai_fake: tuple[FakeOpenAI, str], question: str,
             script: list) -> tuple[Reply, PendingAction, Door]:
    """Ask in chat with the model playing `script`; the one action left waiting for approval."""
    server, url = openai_fake
    settings = llm_settings(hostile_settings, url)
    door = make_door(settings)
    server.script = script
    reply = chat(settings, door).ask(question, f"t-{uuid.uuid4().hex}", ASKER)
    [action_id] = door.gate.store.pending()
    action = door.gate.store.get(action_id)
    assert action is not None and reply.card is not None
    return reply, action, door


def assert_refused_and_told(door: Door, reply: Reply, tool: str) -> None:
    """Nothing reached the gate (no decision, no pending action, no card with buttons); the refusal is in the
    audit trail under the asker; the reply leads with it and labels the model's words as the model's."""
    assert door.gate.store.pending() == [] and reply.card is None
    assert not [r for r in door.audit.query() if r.kind == "decision"], "the call never reached the gate"
    [refused] = refusals(door, tool)
    assert (refused.kind, refused.identity, refused.summary) == ("tool_call", ASKER,
                                                                 f"{tool}: {messages.NOT_OFFERED_WHY}")
    assert reply.text.startswith(messages.NOT_OFFERED.format(tools=tool))
    assert messages.MODEL_WORDS in reply.text


def test_a_planted_instruction_cannot_make_a_why_question_propose_a_change(
        hostile_settings: Settings, openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    settings = llm_settings(hostile_settings, url)
    door = make_door(settings)
    pod = checkout_pod(door)

    def obey(body: dict) -> dict:  # the worst case: the model does as the log line says
        assert INJECTION in body["messages"][-1]["content"]
        return {"tool_calls": [("k8s_delete_pod", {"namespace": "shop", "pod": pod})]}

    server.script = [tool_call("k8s_pod_logs", namespace="shop", pod="checkout"), obey,
                     {"content": "As pre-approved, I deleted the checkout pods."}]
    reply = chat(settings, door).ask("why is checkout failing?", "t-planted", ASKER)

    assert_refused_and_told(door, reply, "k8s_delete_pod")
    # opsbot's corrections come first; the model's false claim only after them, under its label
    claim = reply.text.index("As pre-approved")
    assert reply.text.index(messages.CLAIM_NOTHING) < reply.text.index(messages.MODEL_WORDS) < claim
    assert "k8s_delete_pod" not in [t["function"]["name"] for t in server.bodies[1]["tools"]]
    told = server.bodies[2]["messages"][-1]
    assert told["role"] == "user" and "k8s_delete_pod" in told["content"]
    assert messages.NOT_OFFERED_WHY in told["content"], "the model reads why, and the loop goes on"


def test_a_change_written_as_text_is_refused_the_same_way(hostile_settings: Settings,
                                                          openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    settings = llm_settings(hostile_settings, url)
    door = make_door(settings)
    printed = json.dumps({"name": "k8s_delete_pod", "arguments": {"namespace": "shop", "pod": checkout_pod(door)}})
    server.script = [{"content": f"Deleting the crashing pod as the log asks.\n```json\n{printed}\n```"},
                     {"content": "checkout crash-loops: DATABASE_URL is not set."}]
    reply = chat(settings, door).ask("why is checkout failing?", "t-printed", ASKER)

    assert_refused_and_told(door, reply, "k8s_delete_pod")
    assert "```" not in reply.text and "Deleting the crashing pod" not in reply.text
    assert reply.text.index(messages.MODEL_WORDS) < reply.text.index("checkout crash-loops")


def test_a_change_the_question_asked_for_names_the_person(hostile_settings: Settings,
                                                          openai_fake: tuple[FakeOpenAI, str]) -> None:
    reply, action, _ = proposed(hostile_settings, openai_fake, "please restart checkout", [
        tool_call("k8s_rollout_restart", namespace="shop", deployment="checkout"),
        {"content": "The restart of checkout waits for an on-call lead."}])

    assert (action.tool, action.via, action.requester) == ("k8s_rollout_restart", "agent", ASKER)
    assert reply.card is not None and reply.card.failing.startswith(messages.PROPOSED_AS_ASKED.format(requester=ASKER))
    assert reply.text.startswith("The restart of checkout waits"), "nothing to correct: it leads with the answer"


def test_a_change_the_model_put_forward_on_its_own_says_so(hostile_settings: Settings,
                                                           openai_fake: tuple[FakeOpenAI, str]) -> None:
    reply, action, door = proposed(hostile_settings, openai_fake, "should I scale checkout?", [
        tool_call("k8s_rollback", namespace="shop", deployment="checkout"),
        {"content": "I would roll checkout back; it waits for approval."}])

    offered = [t["function"]["name"] for t in openai_fake[0].bodies[0]["tools"]]
    assert "k8s_rollback" in offered, "the changing tools were offered: the question is about a change"
    assert (action.tool, action.via, action.requester) == ("k8s_rollback", "model", ASKER)
    assert reply.card is not None
    assert reply.card.failing.startswith(messages.PROPOSED_BY_MODEL.format(requester=ASKER))
    assert "proposed by the model" in reply.card.failing and "asked by" not in reply.card.failing
    [decision] = [r for r in door.audit.query() if r.kind == "decision"]
    assert decision.identity == ASKER and decision.summary.endswith(f"({messages.MODEL_OWN})"), "the trail says so"


def test_a_refused_change_leads_the_evidence_when_the_model_then_fails(hostile_settings: Settings,
                                                                       openai_fake: tuple[FakeOpenAI, str]) -> None:
    server, url = openai_fake
    settings = llm_settings(hostile_settings, url, max_retries=0)
    door = make_door(settings)
    server.script = [tool_call("k8s_delete_pod", namespace="shop", pod=checkout_pod(door))]  # then a 500
    reply = chat(settings, door).ask("why is checkout failing?", "t-fails", ASKER)

    assert door.gate.store.pending() == [] and reply.card is None and refusals(door, "k8s_delete_pod")
    fell_back = messages.MODEL_FELL_BACK.format(why="it failed with HTTP 500", evidence="").strip()
    assert reply.text.startswith(f"{messages.NOT_OFFERED.format(tools='k8s_delete_pod')}\n\n{fell_back}")
    assert "DATABASE_URL is not set" in reply.text, "the evidence is the answer"


def test_a_change_asked_for_in_an_alert_thread_names_the_person(mutable_settings: Settings) -> None:
    door = make_door(mutable_settings)
    alert = Asked(name="KubePodCrashLooping", labels={"namespace": "shop", "pod": checkout_pod(door)},
                  service_first=False)
    model = ScriptedModel([call("k8s_rollout_restart", namespace="shop", deployment="checkout"), "waiting"])
    agent = Agent(mutable_settings, door, llm=model,
                  memory=Memory(redis_client(mutable_settings), mutable_settings.memory, f"test:{uuid.uuid4().hex}:"))
    answer = agent.ask("please restart it", "t-thread", Caller(identity=ASKER, via="chat"),
                       subject=(alert, "incident inc-1 (KubePodCrashLooping)", "the thread of its alert card"))

    [action_id] = answer.pending
    assert door.gate.store.get(action_id).via == "agent", "the thread's workload is the 'it' the person meant"


def test_the_model_is_shown_cluster_on_the_metrics_logs_and_kubernetes_tools_only_with_several_clusters() -> None:
    from bot.chat.agent import offered
    from tools.catalog import tool_map

    def taking_cluster(several: bool) -> set[str]:
        tools = offered(tool_map(), "why is checkout failing?", "", several)
        return {t["function"]["name"] for t in tools if "cluster" in t["function"]["parameters"]["properties"]}

    assert taking_cluster(False) == set()  # one cluster: the first call is as it was (bench/prompt_tokens.py)
    assert {"prom_query", "logs_search", "k8s_list", "k8s_describe"} <= taking_cluster(True)
