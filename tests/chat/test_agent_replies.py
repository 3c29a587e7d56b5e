"""What real small models do to the loop (too many calls, cut-off calls, unknown tools, calls printed as text,
empty arguments), played by a scripted model against the sandbox through the door."""

from __future__ import annotations

import uuid

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from bot import messages
from bot.chat.agent import Agent
from bot.chat.memory import Memory
from bot.guard.door import Caller, Door
from bot.settings import Settings
from bot.wiring import redis_client
from tests.support.scripted import ScriptedModel, call

OPERATOR = Caller(identity="slack:U0OPERATOR", via="slack")


def agent(settings: Settings, door: Door, model: ScriptedModel) -> Agent:
    return Agent(settings, door, llm=model, memory=Memory(redis_client(settings), settings.memory,
                                                          f"test:{uuid.uuid4().hex}:"))


def calls(*specs: tuple[str, dict]) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": n, "args": a, "id": f"c{i}", "type": "tool_call"}
                                     for i, (n, a) in enumerate(specs)])


def sent_calls(received: list[BaseMessage]) -> list[tuple[str, dict]]:
    """The tool calls the history sent back to the server holds."""
    return [(c["name"], c["args"]) for m in received if isinstance(m, AIMessage) for c in m.tool_calls]


def test_a_reply_with_ten_calls_runs_three_and_the_model_is_told(settings: Settings, door: Door) -> None:
    many = calls(*[("k8s_events", {"namespace": "shop", "limit": n}) for n in range(1, 11)])
    model = ScriptedModel([many, "checkout is crash-looping"])
    answer = agent(settings, door, model).ask("what happened in shop?", "t-many", OPERATOR)

    assert [c.tool for c in answer.calls] == ["k8s_events"] * 3
    second = model.received[1]
    assert len(sent_calls(second)) == 3 and len([m for m in second if isinstance(m, ToolMessage)]) == 3
    told = second[-1]
    assert isinstance(told, HumanMessage) and told.content.count("at most 3 calls run per reply") == 7
    refused = [r for r in door.audit.query()[answer.checks:] if r.status == "refused"]
    assert len(refused) == 7 and all(r.action == "k8s_events" for r in refused)


def test_a_call_cut_off_at_max_tokens_is_audited_told_and_never_sent_back(settings: Settings, door: Door) -> None:
    cut = AIMessage("", tool_calls=[{"name": "k8s_list", "args": {"namespace": "shop"}, "id": "ok1",
                                     "type": "tool_call"}],
                    invalid_tool_calls=[{"name": "k8s_pod_logs", "args": '{"namespace": "shop", "pod": "chec',
                                         "id": "cut1", "error": "Unterminated string", "type": "invalid_tool_call"}])
    model = ScriptedModel([cut, "checkout's pods crash-loop"])
    answer = agent(settings, door, model).ask("what is wrong in shop?", "t-cut", OPERATOR)

    second = model.received[1]
    assert sent_calls(second) == [("k8s_list", {"namespace": "shop"})], "only the whole call goes back"
    assert "k8s_pod_logs" in second[-1].content and "cut off or are not valid JSON" in second[-1].content
    [refused] = [r for r in door.audit.query()[answer.checks:] if r.status == "refused"]
    assert refused.action == "k8s_pod_logs" and refused.args == {"raw": '{"namespace": "shop", "pod": "chec'}
    assert answer.text.startswith("checkout's pods crash-loop")


def test_an_unknown_tool_is_refused_by_the_door_and_its_json_is_never_the_answer(settings: Settings,
                                                                                 door: Door) -> None:
    rogue = calls(("kubectl_exec", {"cmd": "rm -rf /"}))
    printed = '```json\n{"name": "kubectl_exec", "arguments": {"cmd": "rm -rf /"}}\n```'
    model = ScriptedModel([rogue, printed, AIMessage(printed)])
    answer = agent(settings.model_copy(update={"llm": settings.llm.model_copy(update={"max_steps": 2})}),
                   door, model).ask("why is checkout failing?", "t-rogue", OPERATOR)

    mine = door.audit.query()[answer.checks:]
    # two rounds refused by the door; the forced answer's call, offered nothing, refused as not offered
    assert [(r.action, r.status) for r in mine] == [("kubectl_exec", "error"), ("kubectl_exec", "error"),
                                                    ("kubectl_exec", "refused")]
    assert [r.args for r in mine] == [{"cmd": "rm -rf /"}] * 2 + [{"raw": '{"cmd": "rm -rf /"}'}]
    assert "no tool 'kubectl_exec'; tools:" in model.received[1][-1].content
    assert not [c for c in sent_calls(model.received[-1]) if c[0] == "kubectl_exec"]
    assert "kubectl_exec" not in answer.text and "```" not in answer.text
    assert answer.text.startswith(messages.MODEL_FELL_BACK.split("{")[0].format())
    assert "DATABASE_URL is not set" in answer.text, "the evidence is the answer"


def test_a_call_printed_as_text_runs_as_a_call(settings: Settings, door: Door) -> None:
    printed = AIMessage('Let me look.\n```json\n{"name": "k8s_list", "arguments": {"namespace": "payments"}}\n```')
    model = ScriptedModel([printed, "payments is healthy"])
    answer = agent(settings, door, model).ask("is payments ok?", "t-text", OPERATOR)

    assert [c.tool for c in answer.calls] == ["k8s_list"]
    assert sent_calls(model.received[1]) == [("k8s_list", {"namespace": "payments"})]
    assert answer.text.startswith("payments is healthy")


def test_empty_optional_arguments_are_dropped(settings: Settings, door: Door) -> None:
    model = ScriptedModel([call("logs_search", service="checkout", pod="", namespace="", level=None), "ok"])
    answer = agent(settings, door, model).ask("any errors for checkout?", "t-empty", OPERATOR)
    [mine] = [r for r in door.audit.query()[answer.checks:]]
    assert mine.status == "success" and mine.args == {"service": "checkout"}


def test_after_one_change_is_put_forward_no_other_is(mutable_settings: Settings) -> None:
    from tests.support.doors import make_door

    door = make_door(mutable_settings)
    model = ScriptedModel([call("k8s_rollout_restart", namespace="shop", deployment="cart"),
                           call("k8s_scale", "c2", namespace="shop", deployment="cart", replicas=4),
                           "the restart waits for approval"])
    answer = agent(mutable_settings, door, model).ask("restart cart in shop", "t-one", OPERATOR)

    assert [(c.tool, c.status.value) for c in answer.calls] == [("k8s_rollout_restart", "approval_required")]
    assert "one change per question" in model.received[2][-1].content
    assert len(door.gate.store.pending()) == 1
    [refused] = [r for r in door.audit.query()[answer.checks:] if r.status == "refused"]
    assert refused.action == "k8s_scale"


def test_a_reply_that_repeats_the_question_is_shown_without_the_copy(settings: Settings, door: Door) -> None:
    def echo(received: list[BaseMessage]) -> AIMessage:
        return AIMessage(f"{received[-1].content}\n\ncheckout is missing DATABASE_URL.")

    answer = agent(settings, door, ScriptedModel([echo])).ask("why is checkout failing?", "t-echo", OPERATOR)
    assert answer.text.startswith("checkout is missing DATABASE_URL.\n\nEvidence (opsbot's checks")
    assert "<evidence>" not in answer.text
