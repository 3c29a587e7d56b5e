"""The agent loop with a scripted chat model, against the sandbox's real backends through the one door."""

from __future__ import annotations

import uuid

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from bot import messages
from bot.chat.agent import Agent
from bot.chat.memory import Memory
from bot.guard.door import Caller, Door
from bot.settings import Settings
from bot.wiring import redis_client
from tests.support.doors import make_door
from tests.support.hostile import INJECTION, SECRET, hostile_settings  # noqa: F401 (fixture)
from tests.support.scripted import ScriptedModel, call

OPERATOR = Caller(identity="slack:U0OPERATOR", via="slack")


def memory(settings: Settings) -> Memory:
    return Memory(redis_client(settings), settings.memory, f"test:{uuid.uuid4().hex}:")


def nothing_firing(settings: Settings, dead_url: str) -> Door:
    """A door whose Alertmanager answers nothing (down): a question that names nothing has no subject, whatever
    the sandbox's own alert is doing by the time the test runs."""
    return make_door(settings.model_copy(update={"alertmanager": settings.alertmanager.model_copy(
        update={"url": dead_url})}))


def agent(settings: Settings, door: Door, model: ScriptedModel, max_steps: int | None = None) -> Agent:
    if max_steps is not None:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"max_steps": max_steps})})
    return Agent(settings, door, llm=model, memory=memory(settings))


def replicas(door: Door) -> int:
    r = door.run("k8s_describe", {"namespace": "shop", "kind": "Deployment", "name": "checkout"}, OPERATOR)
    return r.data["replicas"]["desired"]


def _inside_evidence(text: str, needle: str) -> bool:
    start, end = text.find("<evidence>"), text.rfind("</evidence>")
    return 0 <= start < text.find(needle) < end


def last_tool_message(received: list[BaseMessage]) -> ToolMessage:
    return [m for m in received if isinstance(m, ToolMessage)][-1]


def test_a_question_runs_the_right_tools_through_the_door(settings: Settings, door: Door) -> None:
    model = ScriptedModel([
        call("k8s_list", namespace="shop", deployment="checkout"),
        call("k8s_pod_logs", "c2", namespace="shop", pod="checkout", previous=True),
        "checkout crash-loops: DATABASE_URL is not set (k8s_pod_logs).",
    ])
    answer = agent(settings, door, model).ask("why is checkout failing?", "t-tools", OPERATOR)

    assert answer.text.startswith("checkout crash-loops: DATABASE_URL is not set (k8s_pod_logs).")
    assert [(c.tool, c.status.value) for c in answer.calls] == [("k8s_list", "success"),
                                                                 ("k8s_pod_logs", "success")]
    records = door.audit.query()
    assert answer.checks > 0 and {r.identity for r in records} == {"slack:U0OPERATOR"}
    assert [(r.kind, r.action) for r in records[answer.checks:]] == [("tool_call", "k8s_list"),
                                                                     ("tool_call", "k8s_pod_logs")]
    assert "CrashLoopBackOff" in model.received[1][-1].content
    assert "DATABASE_URL is not set" in last_tool_message(model.received[2]).content
    assert not answer.step_limit_hit and answer.pending == [] and not answer.fell_back


def test_a_proposed_mutation_becomes_a_pending_approval_and_nothing_runs(mutable_settings: Settings) -> None:
    door = make_door(mutable_settings)
    model = ScriptedModel([
        call("k8s_scale", namespace="shop", deployment="checkout", replicas=5),
        lambda received: AIMessage(f"Proposed: {last_tool_message(received).content}"),
    ])
    answer = agent(mutable_settings, door, model).ask("scale checkout to 5", "t-scale", OPERATOR)

    assert [c.status.value for c in answer.calls] == ["approval_required"]
    action_id = answer.calls[0].action_id
    assert action_id and answer.pending == [action_id]
    told = last_tool_message(model.received[1]).content
    assert messages.PENDING_APPROVAL.format(action_id=action_id,
                                            summary="scale shop/checkout from 3 to 5 replicas") in told
    assert replicas(door) == 3
    assert not [r for r in door.audit.query() if r.kind == "execution"]


def test_the_step_limit_forces_a_final_answer_without_tools(settings: Settings, door: Door) -> None:
    model = ScriptedModel([
        call("k8s_list", namespace="shop"),
        call("k8s_events", "c2", namespace="shop"),
        # The forced call: the model still asks for a tool; it is not run and the loop ends.
        AIMessage("checkout is crash-looping.", tool_calls=[
            {"name": "k8s_events", "args": {"namespace": "payments"}, "id": "c3", "type": "tool_call"}]),
    ])
    answer = agent(settings, door, model, max_steps=2).ask("what is wrong in shop?", "t-limit", OPERATOR)

    assert answer.step_limit_hit
    assert answer.text.startswith("checkout is crash-looping.")
    assert messages.STEP_LIMIT_NOTE.format(steps=2) in answer.text
    forced = model.received[-1]
    assert isinstance(forced[-1], HumanMessage) and forced[-1].content == messages.FORCE_ANSWER
    assert len(model.bound_tools) == 2, "the forced call is made without tools"
    # the forced call was offered nothing: its call is refused, audited and told, never run
    assert [(r.action, r.status) for r in door.audit.query()[answer.checks:]] == [
        ("k8s_list", "success"), ("k8s_events", "success"), ("k8s_events", "refused")]
    assert door.audit.query()[-1].summary == f"k8s_events: {messages.NOT_OFFERED_WHY}"
    assert messages.NOT_OFFERED.format(tools="k8s_events") in answer.text and answer.refused == ["k8s_events"]


def test_an_identical_repeated_call_is_refused(settings: Settings, door: Door) -> None:
    model = ScriptedModel([
        call("k8s_events", namespace="shop"),
        call("k8s_events", "c2", namespace="shop"),
        call("k8s_events", "c3", namespace="shop", object_name="checkout"),
        "done",
    ])
    answer = agent(settings, door, model).ask("events in shop?", "t-repeat", OPERATOR)

    told = model.received[2][-1]
    assert isinstance(told, HumanMessage) and "already called with exactly these arguments" in told.content
    assert not [m for m in model.received[2] if isinstance(m, AIMessage) and m.tool_calls
                and m.tool_calls[0]["id"] == "c2"], "the repeat is not in the history as a call"
    mine = door.audit.query()[answer.checks:]
    assert [(r.status, r.args) for r in mine] == [("success", {"namespace": "shop"}),
                                                  ("refused", {"raw": '{"namespace": "shop"}'}),
                                                  ("success", {"namespace": "shop", "object_name": "checkout"})]
    assert len(answer.calls) == 2


def test_a_tool_error_goes_back_to_the_model(settings: Settings, door: Door, down_door: Door) -> None:
    model = ScriptedModel([call("logs_search", service="checkout", colour="blue"), "sorry"])
    answer = agent(settings, door, model).ask("logs?", "t-err", OPERATOR)
    bad = last_tool_message(model.received[1])
    assert bad.status == "error"
    assert "invalid arguments for logs_search: colour: is not an argument of this tool" in bad.content
    assert [(r.action, r.status) for r in door.audit.query()[answer.checks:]] == [("logs_search", "error")]

    model = ScriptedModel([call("k8s_list", namespace="shop"), "the cluster is unreachable"])
    answer = agent(settings, down_door, model).ask("pods?", "t-down", OPERATOR)
    down = last_tool_message(model.received[1])
    assert down.status == "error" and "could not reach kubernetes" in down.content
    assert answer.text == "the cluster is unreachable" and answer.about is None


def test_an_instruction_in_a_log_line_changes_nothing(hostile_settings: Settings) -> None:
    door = make_door(hostile_settings)

    def obey(received: list[BaseMessage]) -> AIMessage:  # the worst case: the model does as the log says
        assert INJECTION in last_tool_message(received).content
        return call("k8s_scale", "c2", namespace="shop", deployment="checkout", replicas=0)

    model = ScriptedModel([call("k8s_pod_logs", namespace="shop", pod="checkout"), obey, "done"])
    answer = agent(hostile_settings, door, model).ask("look at checkout's logs", "t-inject", OPERATOR)

    # reading logs asks for no change: the scale was not offered, so it is refused and never proposed
    assert [c.tool for c in answer.calls] == ["k8s_pod_logs"] and answer.refused == ["k8s_scale"]
    assert door.gate.store.pending() == [] and answer.pending == []
    assert replicas(door) == 3
    assert not [r for r in door.audit.query() if r.kind == "execution"]
    seen = model.received[-1]
    carrying = [m for m in seen if INJECTION in str(m.content)]
    assert carrying and all(isinstance(m, ToolMessage) or _inside_evidence(str(m.content), INJECTION)
                            for m in carrying), "the log line reached the model only as data"
    everything = "\n".join(str(m.content) for received in model.received for m in received)
    assert SECRET not in everything and "hunter2" not in everything
    assert "GITHUB_TOKEN=[REDACTED]" in everything


def test_the_question_and_the_answer_are_redacted(settings: Settings, door: Door) -> None:
    model = ScriptedModel([lambda received: AIMessage(f"you said: {received[-1].content}; key {SECRET}")])
    answer = agent(settings, door, model).ask(f"is {SECRET} still valid? password=hunter2", "t-red", OPERATOR)
    assert model.received[0][-1].content == "is [REDACTED] still valid? password=[REDACTED]"
    assert model.received[0][-2].content.startswith("opsbot's checks for the question that follows:\n<evidence>")
    assert SECRET not in answer.text and "hunter2" not in answer.text
    assert isinstance(model.received[0][0], SystemMessage)


def test_no_model_configured_still_answers_from_the_evidence(settings: Settings, door: Door, dead_url: str) -> None:
    no_model = settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": None})})
    answer = Agent(no_model, door, memory=memory(settings)).ask("why is checkout failing?", "t-none", OPERATOR)
    assert answer.text.startswith(messages.NO_MODEL) and not answer.model_available and answer.fell_back
    assert "troubleshoot SERVICE" in answer.text
    assert "opsbot's checks of Deployment shop/checkout" in answer.text
    assert "DATABASE_URL is not set" in answer.text and "A rollback fits: rollback shop/checkout" in answer.text
    assert not [r for r in door.audit.query() if r.status not in ("success", "no_data")]

    vague = Agent(no_model, nothing_firing(settings, dead_url), memory=memory(settings)).ask(
        "hello there", "t-none-2", OPERATOR)
    assert vague.text == messages.NO_MODEL


def test_a_failing_model_gives_a_clear_reply(settings: Settings, door: Door, dead_url: str) -> None:
    def broken(received: list[BaseMessage]) -> AIMessage:
        raise ConnectionError("connection refused by http://user:pw@llm.local")

    answer = agent(settings, nothing_firing(settings, dead_url), ScriptedModel([broken])).ask("why?", "t-broken",
                                                                                              OPERATOR)
    assert answer.text == messages.MODEL_FAILED.format(why="it could not be reached")
    assert not answer.model_available and "Traceback" not in answer.text

    answer = agent(settings, door, ScriptedModel([broken])).ask("why is checkout failing?", "t-broken-2", OPERATOR)
    assert answer.text.startswith(messages.MODEL_FELL_BACK.split("{")[0]) and answer.fell_back
    assert "DATABASE_URL is not set" in answer.text and "pw@" not in answer.text


def test_memory_carries_the_thread_but_not_other_threads(settings: Settings, door: Door) -> None:
    model = ScriptedModel(["checkout is crash-looping", "yes, still checkout", "which service?"])
    a = agent(settings, door, model)
    a.ask("what is failing in shop?", "thread-1", OPERATOR)
    a.ask("is it still the same one?", "thread-1", OPERATOR)
    a.ask("is it still the same one?", "thread-2", OPERATOR)
    second, other = model.received[1], model.received[2]
    said = [m.content.split("\n\n")[0] for m in second[1:] if not m.content.startswith("opsbot's checks")]
    assert said == ["what is failing in shop?", "checkout is crash-looping", "is it still the same one?"]
    assert [m.content for m in other[1:]][-1:] == ["is it still the same one?"] and len(other) == 3


def test_a_reply_that_claims_a_change_the_door_did_not_make_is_corrected(mutable_settings: Settings) -> None:
    from bot.chat.conversation import action_card

    door = make_door(mutable_settings)
    model = ScriptedModel([call("k8s_scale", namespace="shop", deployment="checkout", replicas=5),
                           AIMessage("Done, as pre-approved: checkout is scaled to 5.")])
    lead = Caller(identity="slack:U0LEAD", via="slack")
    answer = agent(mutable_settings, door, model).ask("should we scale checkout down?", "t-claim", lead)
    [action_id] = answer.pending
    # opsbot's correction leads; the model's false words follow, labelled as its own
    assert answer.text.startswith(messages.CLAIM_PENDING.split("{")[0]) and f"#{action_id}" in answer.text
    assert answer.text.index(messages.MODEL_WORDS) < answer.text.index("Done, as pre-approved")
    assert replicas(door) == 3
    pending = door.gate.store.get(action_id)
    assert pending.via == "agent"
    assert "proposed by opsbot (asked by slack:U0LEAD)" in action_card(pending).failing

    quiet = ScriptedModel([AIMessage("I restarted checkout for you.")])
    said = agent(mutable_settings, door, quiet).ask("restart checkout", "t-claim-2", lead)
    assert said.text.startswith(f"{messages.CLAIM_NOTHING}\n\n{messages.MODEL_WORDS}\nI restarted checkout")
