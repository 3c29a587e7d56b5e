"""The chat agent: evidence first, then a bounded tool-calling loop on any OpenAI-compatible model, with the
door as its only hands.

One question, in order:
1. bot/chat/briefing.py finds what the question is about and runs triage's reads and diagnosis through the
   door (no model needed); with no model, or a model that fails, that evidence is the answer;
2. the model reads the evidence with the question and explains it, calling tools only for what is missing:
   every reply is sorted by bot/chat/replies.py (at most `llm.max_calls_per_reply` calls run, cut-off,
   unknown and repeated calls are audited and told to the model in words, never sent back as calls);
   every call has `llm.max_tokens`; each tool call runs through `door.run` (validation, policy, approvals,
   caps, audit), so a mutating call comes back as "pending approval #id" and never runs here;
3. the model calls only what this model call was offered (the changing tools only when the question is
   about a change, bot/chat/asked.py): any other call, made or written as text, is refused and audited
   ("not offered for this question"), never reaches the gate, and the person is told; a change the model
   puts forward that the question did not ask for goes to the gate as the model's own (`via="model"`), and
   its card says "proposed by the model";
4. after `llm.max_steps` rounds, one last call without tools must answer (a call in it is not offered:
   refused the same way); the whole question has one deadline (`llm.deadline_s`), each call the time that
   is left (at most `llm.timeout_s`);
5. the answer cites the evidence it rests on. When the model's words claim a change the door did not make,
   or a changing call was refused, opsbot's correction (from the door's results: what is pending, what was
   refused, that nothing ran) leads the reply and the model's words follow under their own label: a false
   claim is never shown first. A tool call is never shown to a person as an answer.
Everything the model reads (question, memory, evidence, tool results) and says is redacted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, Field

from bot import messages
from bot.chat.asked import about_change, asked_for
from bot.chat.briefing import Briefing, brief
from bot.chat.memory import Line, Memory
from bot.chat.replies import MAX_RAW, Refused, Sorted, sort_reply, without_echo
from bot.chat.tool_schema import openai_tool
from bot.guard.door import Caller, Door
from bot.llm import chat_model, render
from bot.redact import redact
from bot.settings import Settings
from bot.triage.troubleshoot import Asked
from prompts import load as load_prompt
from tools.base import Status, Tool, ToolResult

log = structlog.get_logger(__name__)

# The tools a question is offered, in a fixed order (a stable prefix the server's prompt cache reuses). The
# evidence already holds the firing alerts and the past incidents most like the subject, so the alerts' tool is not
# offered; knowledge_search looks further (playbooks, other incidents); the mutating tools are offered only when
# the question (or the last answer in the thread) is about making one.
QUESTION_TOOLS = ("k8s_describe", "k8s_list", "k8s_pod_logs", "k8s_events", "k8s_changes", "logs_search",
                  "prom_query", "knowledge_search")
NOT_FOR_CHANGES = ("k8s_changes", "knowledge_search")  # the first call of a change stays within its token budget
_RETRYABLE = {"APIConnectionError", "InternalServerError", "RateLimitError"}  # not APITimeoutError: a CPU
MIN_CALL_S = 3.0  # server that ran out of time will not be quicker the second time; nor below this.

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _subject(briefing: Briefing) -> str | None:
    """What the evidence is about and the workload it found ("please restart it" in an alert's thread)."""
    t = briefing.evidence.target
    return " ".join(x for x in (briefing.about, t.workload if t else None, t.name if t else None) if x) or None


def _last_answer(history: list[Line]) -> str:
    return next((x.text for x in reversed(history) if x.role == "assistant"), "")


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
    refused: list[str] = Field(default_factory=list, description="tools the model called though they were not "
                               "offered for this question (refused, audited, never proposed)")
    step_limit_hit: bool = False
    model_available: bool = True
    fell_back: bool = Field(False, description="the text is opsbot's evidence or a failure note, not the model's")
    about: str | None = Field(None, description="what the evidence was gathered about, e.g. 'Deployment shop/x'")
    checks: int = Field(0, description="reads opsbot ran (and audited) for the evidence before the model")
    model_calls: int = 0
    input_tokens: int = Field(0, description="as the server counted them")
    output_tokens: int = 0


@dataclass
class Usage:
    """What one question cost, as the server counted it."""

    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class Asking:
    """One question as the loop works on it: what the person asked, and what the door did with the model's calls."""

    question: str
    last_answer: str
    about: str | None  # what the evidence is about, with the workload it found: names the question implies
    caller: Caller
    results: list[ToolResult] = field(default_factory=list)
    unoffered: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    def caller_for(self, tool: str, args: dict[str, Any]) -> Caller:
        """The caller a change goes to the gate as: for the person when their question asked for it, else as
        the model's own proposal (recorded on the pending action, which its card reads)."""
        if asked_for(tool, args, self.question, self.last_answer, self.about):
            return self.caller
        return self.caller.model_copy(update={"via": "model"})


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


_CLAIM = re.compile(r"\b(?:done|scaled|restarted|rolled[ -]back|deleted|killed|bounced|redeployed|reverted|"
                    r"executed|applied|fixed|pre-approved|approved)\b", re.IGNORECASE)


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


def offered(tools: dict[str, Tool], question: str, last_answer: str = "",
            several_clusters: bool = False) -> list[dict[str, Any]]:
    """The tools a question is offered, as the API takes them (see QUESTION_TOOLS); their
    `cluster` (the Kubernetes, metrics and logs tools take one) only when the settings name several clusters."""
    names = [n for n in QUESTION_TOOLS if n in tools]
    if about_change(question) or about_change(last_answer):  # it names what to change: not what changed before
        names = [n for n in names if n not in NOT_FOR_CHANGES] + [t.name for t in tools.values() if t.mutates]
    return [openai_tool(tools[n], hide=() if several_clusters else ("cluster",)) for n in names]


def refusal(asking: Asking, mutating: set[str]) -> tuple[str | None, bool]:
    """What the person is told of the calls refused as not offered, and whether it leads the reply (a change
    was among them: the person learns first that the model tried one)."""
    refused = list(dict.fromkeys(asking.unoffered))
    told = messages.NOT_OFFERED.format(tools=", ".join(refused)) if refused else None
    return told, bool(mutating & set(refused))


def checked(said: str, asking: Asking, mutating: set[str]) -> str:
    """The model's words as the person sees them: when they claim a change the door did not make, or the model
    called a change it was not offered, opsbot's correction leads and the words follow under their label; a
    refused read is told after them."""
    told, leads = refusal(asking, mutating)
    lead = [told] if told and leads else []
    correction = check_claims(said, asking.results, mutating)
    if correction:
        lead.append(correction)
    if not lead:
        return f"{said}\n\n{told}" if told else said
    return "\n\n".join([*lead, f"{messages.MODEL_WORDS}\n{said}"])


def cited(text: str, briefing: Briefing) -> str:
    """The answer with the evidence it rests on."""
    lines = briefing.cites()
    if not briefing.about or not lines:
        return text
    return f"{text}\n\nEvidence (opsbot's checks of {briefing.about}):\n" + "\n".join(f"• {x}" for x in lines)


class Agent:
    def __init__(self, settings: Settings, door: Door, llm: BaseChatModel | None = None,
                 memory: Memory | None = None, tools: Iterable[Tool] | None = None,
                 namespaces: list[str] | None = None):
        self.settings, self.door = settings, door
        self.llm = llm if llm is not None else chat_model(settings.llm)
        if memory is None:
            from bot.wiring import redis_client

            memory = Memory(redis_client(settings), settings.memory, settings.redis.key_prefix)
        self.memory = memory
        self.tools = {t.name: t for t in (tools if tools is not None else door.tools.values())}
        self.namespaces = namespaces if namespaces is not None else settings.chat.namespaces
        self.max_steps = settings.llm.max_steps

    def offered(self, question: str, history: list[Line]) -> list[dict[str, Any]]:
        return offered(self.tools, question, _last_answer(history), len(self.settings.kubernetes.clusters) > 1)

    def ask(self, question: str, thread: str, caller: Caller, progress: Progress = _quiet,
            subject: tuple[Asked, str, str] | None = None) -> Answer:
        """`subject`: (what, shown as, why), when the question's subject is known before it is read."""
        caller = caller.model_copy(update={"via": "agent"})
        question = redact(question)
        history = self.memory.load(thread)
        deadline = time.monotonic() + self.settings.llm.deadline_s
        briefing = brief(self.door, caller, question, self.namespaces, progress, subject)
        if self.llm is None:
            text = f"{messages.NO_MODEL}\n\n{briefing.summary()}" if briefing.about else messages.NO_MODEL
            answer = self._answer(text, Asking(question, "", briefing.about, caller), briefing, hit=False,
                                  available=False)
            answer.fell_back = True
            return answer
        msgs: list[AnyMessage] = [
            SystemMessage(load_prompt("system")),
            *[HumanMessage(x.text) if x.role == "user" else AIMessage(x.text) for x in history],
            # The evidence, then the question on its own: a model that starts by repeating the last message
            # (small ones do) repeats a line, not the whole evidence.
            HumanMessage(f"opsbot's checks for the question that follows:\n{briefing.for_model()}"),
            HumanMessage(question),
        ]
        asking = Asking(question, _last_answer(history), _subject(briefing), caller)
        said, failure, rounds = self._loop(msgs, self.offered(question, history), asking, deadline, progress)
        mutating = {t.name for t in self.tools.values() if t.mutates}
        if failure or not said:
            why = failure or "it gave no answer in words"
            text = (messages.MODEL_FELL_BACK.format(why=why, evidence=briefing.summary()) if briefing.about
                    else messages.MODEL_FAILED.format(why=why))
            told, leads = refusal(asking, mutating)  # opsbot's own words: no claim to check, a refusal to tell
            if told and leads:
                text = f"{told}\n\n{text}"
            answer = self._answer(text, asking, briefing, hit=False, available=failure is None)
            answer.fell_back = True
        else:
            answer = self._answer(cited(checked(redact(said), asking, mutating), briefing), asking, briefing,
                                  hit=rounds >= self.max_steps, available=True)
        if answer.step_limit_hit:
            answer.text = f"{answer.text}\n\n{messages.STEP_LIMIT_NOTE.format(steps=self.max_steps)}"
        usage = asking.usage
        answer.model_calls, answer.input_tokens, answer.output_tokens = \
            usage.model_calls, usage.input_tokens, usage.output_tokens
        if not failure:
            self.memory.append(thread, Line(role="user", text=question), Line(role="assistant", text=answer.text))
        return answer

    def _loop(self, msgs: list[AnyMessage], tools: list[dict[str, Any]], asking: Asking, deadline: float,
              progress: Progress) -> tuple[str, str | None, int]:
        """(the model's final words, why it failed or None, tool rounds run); `asking` collects the rest."""
        seen: set[str] = set()
        usage = asking.usage
        for step in range(self.max_steps + 1):
            last = step == self.max_steps
            if last:
                msgs.append(HumanMessage(messages.FORCE_ANSWER))
            progress("asking the model…" if step == 0 else f"asking the model again (round {step + 1})…")
            offer = [] if last else tools
            try:
                reply = self._call(msgs, offer, deadline)
            except Exception as e:  # remote and fallible: the user gets a sentence, the log the type
                log.warning("model_failed", error_type=type(e).__name__, error=redact(str(e))[:500])
                return "", _why(e), step
            tokens = reply.usage_metadata or {}
            usage.model_calls += 1
            usage.input_tokens += tokens.get("input_tokens", 0)
            usage.output_tokens += tokens.get("output_tokens", 0)
            s = sort_reply(reply, set(self.tools), {t["function"]["name"] for t in offer},
                           self.settings.llm.max_calls_per_reply, seen)
            asking.unoffered += s.unoffered
            if last or not s.asked_for_tools:
                # the final call is offered nothing: what it asks for is refused and audited, tools or not
                unknown = [Refused(c["name"], json.dumps(c["args"])[:MAX_RAW], messages.NOT_OFFERED_WHY)
                           for c in s.unknown]
                for bad in [*s.refused, *unknown]:
                    self.door.refuse(bad.name, bad.raw, bad.why, asking.caller)
                sent = [str(m.content) for m in msgs if isinstance(m, HumanMessage)]
                return without_echo(s.text, list(reversed(sent))), None, step
            self._one_change(s, asking.results)
            self._run_calls(s, msgs, asking, progress)
        return "", None, self.max_steps  # not reached: the last step always returns

    def _one_change(self, s: Sorted, results: list[ToolResult]) -> None:
        """At most one change is put forward per question: once one is pending or refused, further changing
        calls are refused (a small model that is denied a restart tries a scale, a delete, a rollback)."""
        mutating = {n for n, t in self.tools.items() if t.mutates}
        proposed = [r for r in results if r.tool in mutating]
        keep = []
        for c in s.run:
            if c["name"] in mutating and (proposed or any(k["name"] in mutating for k in keep)):
                done = proposed[0].invocation if proposed else keep[0]["name"]
                s.refused.append(Refused(c["name"], json.dumps(c["args"])[:MAX_RAW],
                                         f"one change per question: {done} was already put forward"))
            else:
                keep.append(c)
        s.run = keep

    def _run_calls(self, s: Sorted, msgs: list[AnyMessage], asking: Asking, progress: Progress) -> None:
        """The reply's runnable calls through the door (a change as the person's or the model's own, see
        `Asking.caller_for`), in the history as the assistant's calls and their results; the rest audited and
        told to the model in words."""
        caller, results = asking.caller, asking.results
        # The reply's own words are left out of the history: next to calls they are an echo or a plan, and
        # small models repeat the whole question there.
        msgs.append(AIMessage("",
                              tool_calls=[{"name": c["name"], "args": c["args"], "id": c["id"], "type": "tool_call"}
                                          for c in s.run]))
        for c in s.run:
            progress(f"running {c['name']}…")
            t = self.tools[c["name"]]
            r = self.door.run(c["name"], c["args"], asking.caller_for(t.name, c["args"]) if t.mutates else caller)
            results.append(r)
            failed = r.status in (Status.error, Status.denied)
            msgs.append(ToolMessage(render(r), tool_call_id=c["id"], name=c["name"],
                                    status="error" if failed else "success"))
        words = [s.problems()] if s.problems() else []
        for c in s.unknown:  # the door refuses and audits them; the model reads why
            r = self.door.run(c["name"], c["args"], caller)
            results.append(r)
            words.append(f"opsbot: {r.error}")
        for bad in s.refused:
            self.door.refuse(bad.name, bad.raw, bad.why, caller)
        if words:
            msgs.append(HumanMessage("\n".join(w for w in words if w)))

    def _call(self, msgs: list[AnyMessage], tools: list[dict[str, Any]], deadline: float) -> AIMessage:
        """One model call within the question's deadline; connection errors, 5xx and 429 retried while time
        is left (`llm.max_retries`)."""
        llm = self.settings.llm
        model = self.llm.bind_tools(tools) if tools else self.llm
        for attempt in range(llm.max_retries + 1):
            left = deadline - time.monotonic()
            if left < MIN_CALL_S:
                raise QuestionTimeout()
            try:
                reply = model.invoke(msgs, max_tokens=llm.max_tokens, timeout=min(llm.timeout_s, left))
                assert isinstance(reply, AIMessage)
                return reply
            except Exception as e:
                if type(e).__name__ not in _RETRYABLE or attempt == llm.max_retries:
                    raise
                log.info("model_retry", error_type=type(e).__name__, attempt=attempt + 1)
        raise QuestionTimeout()  # not reached: the last attempt returns or raises

    def _answer(self, text: str, asking: Asking, briefing: Briefing, hit: bool, available: bool) -> Answer:
        results = asking.results
        calls = [Call(tool=r.tool, invocation=r.invocation, status=r.status,
                      action_id=r.data.get("action_id") if isinstance(r.data, dict) and
                      r.status == Status.approval_required else None) for r in results]
        pending = [c.action_id for c in calls if c.action_id]
        return Answer(text=text, calls=calls, pending=pending, refused=list(dict.fromkeys(asking.unoffered)),
                      step_limit_hit=hit, model_available=available, about=briefing.about, checks=briefing.reads)


class QuestionTimeout(TimeoutError):
    """The question's deadline came before the model's answer (`_why` reads it as a timeout)."""
