"""The chat agent: LangChain's tool-calling agent on any OpenAI-compatible model, with the door as its only hands.

Each registered Tool becomes a LangChain StructuredTool whose schema is the tool's Args model and whose body
is `door.run(name, args, caller)`: validation, policy, approvals, caps and audit all happen there, so a
mutating call comes back as "pending approval #id" and never runs inside the agent. Around the loop:
- `StepBudget` middleware: after `llm.max_steps` rounds of tool calls the model is called once more without
  tools and told to answer from what it has;
- identical calls (same tool, same arguments) within one question are refused with a message to the model;
- everything the model reads (the question, memory, tool results) and everything it says is redacted.
With no model configured, or the model failing, `ask` answers with a clear reply that offers the commands.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field

from bot import messages
from bot.chat.memory import Line, Memory
from bot.chat.tool_schema import description, model_schema
from bot.guard.door import Caller, Door
from bot.llm import chat_model, render
from bot.redact import redact
from bot.settings import Settings
from prompts import load as load_prompt
from tools.base import Status, Tool, ToolResult

log = structlog.get_logger(__name__)


class Call(BaseModel):
    """One tool call the agent made, as the door answered it."""

    tool: str
    invocation: str
    status: Status
    action_id: str | None = None


class Answer(BaseModel):
    text: str
    calls: list[Call] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list, description="ids of actions waiting for approval")
    step_limit_hit: bool = False
    model_available: bool = True


# -- one question's run state ---------------------------------------------------------------------------


@dataclass
class Turn:
    """The runtime context of one question: who asks, and what the tools have done so far."""

    caller: Caller
    results: list[ToolResult] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def first_time(self, name: str, args: dict[str, Any]) -> bool:
        key = name + json.dumps(args, sort_keys=True, default=str)
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True

    def record(self, result: ToolResult) -> None:
        with self.lock:
            self.results.append(result)


class DoorTool(StructuredTool):
    """A StructuredTool that leaves argument validation to the door, so a bad call is audited and the model
    gets the door's exact message ("invalid arguments for k8s_scale: replicas: ...")."""

    def _parse_input(self, tool_input: str | dict[str, Any], tool_call_id: str | None) -> str | dict[str, Any]:
        return tool_input


def door_tool(t: Tool, door: Door) -> StructuredTool:
    def run(runtime: ToolRuntime[Turn], **args: Any) -> ToolMessage:
        turn = runtime.context
        call_id = runtime.tool_call_id or ""
        if not turn.first_time(t.name, args):
            return ToolMessage(messages.REPEATED_CALL.format(tool=t.name), tool_call_id=call_id, name=t.name,
                               status="error")
        result = door.run(t.name, args, turn.caller)
        turn.record(result)
        failed = result.status in (Status.error, Status.denied)
        return ToolMessage(render(result), tool_call_id=call_id, name=t.name, status="error" if failed else "success")

    return DoorTool(name=t.name, description=description(t.description), args_schema=model_schema(t.args),
                    func=run)


# -- the bounded loop -----------------------------------------------------------------------------------


def _this_question(msgs: list[AnyMessage]) -> list[AnyMessage]:
    last_human = max((i for i, m in enumerate(msgs) if isinstance(m, HumanMessage)), default=-1)
    return msgs[last_human + 1:]


def tool_rounds(msgs: list[AnyMessage]) -> int:
    """Rounds of tool calls the model made since the question was asked."""
    return sum(1 for m in _this_question(msgs) if isinstance(m, AIMessage) and m.tool_calls)


class StepBudget(AgentMiddleware[Any, Any]):
    """At most `max_steps` tool rounds; then one call without tools that must answer."""

    def __init__(self, max_steps: int):
        super().__init__()
        self.max_steps = max_steps

    def wrap_model_call(self, request: ModelRequest[Any],
                        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]) -> ModelResponse[Any]:
        if tool_rounds(request.messages) < self.max_steps:
            return handler(request)
        forced = request.override(tools=[], tool_choice=None,
                                  messages=[*request.messages, HumanMessage(messages.FORCE_ANSWER)])
        response = handler(forced)
        # A model that still asks for tools gets its words kept and its calls dropped: the loop ends here.
        response.result = [m.model_copy(update={"tool_calls": [], "invalid_tool_calls": []})
                           if isinstance(m, AIMessage) else m for m in response.result]
        return response


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def _why(e: Exception) -> str:
    """Why the model failed, in words for the chat: never the exception's text."""
    name, status = type(e).__name__, getattr(e, "status_code", None)
    if "Timeout" in name:
        return "it did not answer in time"
    if "Connection" in name:
        return "it could not be reached"
    if status in (401, 403):
        return "it refused opsbot's API key"
    if status == 404:
        return "it does not know the configured model"
    if status == 429:
        return "it is rate-limiting opsbot"
    return f"it failed with HTTP {status}" if status else f"it failed ({name})"


_CLAIM = re.compile(r"\b(?:done|scaled|restarted|rolled[ -]back|deleted|executed|applied|fixed|pre-approved|"
                    r"approved)\b", re.IGNORECASE)


def check_claims(text: str, results: list[ToolResult], mutating: set[str]) -> str | None:
    """The model's words checked against what the door did: a reply that speaks of a change no tool executed
    gets opsbot's correction, drawn from the results (the pending actions, or that nothing ran)."""
    if any(r.tool in mutating and r.status == Status.success for r in results) or not _CLAIM.search(text):
        return None
    pending = [r for r in results if r.status == Status.approval_required and isinstance(r.data, dict)]
    if not pending:
        return messages.CLAIM_NOTHING
    if all(f"#{r.data.get('action_id')}" in text for r in pending) and "pending" in text.lower():
        return None  # the reply already says which actions wait for approval
    actions = "; ".join(f"#{r.data.get('action_id')} {(r.data.get('preview') or {}).get('summary', r.invocation)}"
                        for r in pending)
    return messages.CLAIM_PENDING.format(actions=actions)


class Agent:
    def __init__(self, settings: Settings, door: Door, llm: BaseChatModel | None = None,
                 memory: Memory | None = None, tools: Iterable[Tool] | None = None):
        self.settings, self.door = settings, door
        self.llm = llm if llm is not None else chat_model(settings.llm)
        if memory is None:
            from bot.wiring import redis_client

            memory = Memory(redis_client(settings), settings.memory, settings.redis.key_prefix)
        self.memory = memory
        self.tools = [door_tool(t, door) for t in (tools if tools is not None else door.tools.values())]
        self.max_steps = settings.llm.max_steps
        self.graph = None
        if self.llm is not None:
            self.graph = create_agent(self.llm, self.tools, system_prompt=load_prompt("system"),
                                      middleware=[StepBudget(self.max_steps)], context_schema=Turn)

    def ask(self, question: str, thread: str, caller: Caller) -> Answer:
        caller = caller.model_copy(update={"via": "agent"})
        if self.graph is None:
            return Answer(text=messages.NO_MODEL, model_available=False)
        question = redact(question)
        history: list[AnyMessage] = [HumanMessage(line.text) if line.role == "user" else AIMessage(line.text)
                                     for line in self.memory.load(thread)]
        turn = Turn(caller=caller)
        try:
            state = self.graph.invoke(
                {"messages": [*history, HumanMessage(question)]},
                context=turn,
                config={"recursion_limit": 2 * self.max_steps + 6},
            )
        except Exception as e:  # the model is remote and fallible: the user gets a sentence, the log the type
            log.warning("model_failed", error_type=type(e).__name__, error=redact(str(e))[:500], thread=thread)
            return self._answer(turn, messages.MODEL_FAILED.format(why=_why(e)), hit=False, available=False)
        msgs = state["messages"]
        final = next((m for m in reversed(msgs) if isinstance(m, AIMessage)), None)
        text = redact(_text(final)).strip() if final else ""
        hit = tool_rounds(msgs) >= self.max_steps
        answer = self._answer(turn, text or messages.EMPTY_ANSWER, hit=hit, available=True)
        correction = check_claims(answer.text, turn.results, {t.name for t in self.door.tools.values() if t.mutates})
        if correction:
            answer.text = f"{answer.text}\n\n{correction}"
        if hit:
            answer.text = f"{answer.text}\n\n{messages.STEP_LIMIT_NOTE.format(steps=self.max_steps)}"
        self.memory.append(thread, Line(role="user", text=question), Line(role="assistant", text=answer.text))
        return answer

    @staticmethod
    def _answer(turn: Turn, text: str, hit: bool, available: bool) -> Answer:
        calls = [Call(tool=r.tool, invocation=r.invocation, status=r.status,
                      action_id=r.data.get("action_id") if isinstance(r.data, dict) and
                      r.status == Status.approval_required else None) for r in turn.results]
        pending = [c.action_id for c in calls if c.action_id]
        return Answer(text=text, calls=calls, pending=pending, step_limit_hit=hit, model_available=available)
