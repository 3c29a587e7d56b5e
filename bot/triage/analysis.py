"""The model's root-cause analysis for triage: one bounded call from the evidence to an `Analysis`.

`make_analyser(settings)` is the `analyse(alert, evidence)` seam of bot.triage.Triage (None without a model).
Bounded both ways: the model reads the alert and the evidence redacted and cut to `MAX_EVIDENCE_CHARS` (the
cut is announced), inside <evidence> delimiters that prompts/triage.md declares to be data; it answers in
JSON mode with at most `MAX_ANSWER_TOKENS`. The answer is validated, never trusted: not JSON, a missing key
or a confidence outside 0..1 gives None and a logged reason, and so does a failing model. Nothing raises
out of an analyser; Triage's timeout bounds the wall time.
"""

from __future__ import annotations

import re

import structlog
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from bot.cards.model import Analysis
from bot.intake.alert import Alert
from bot.llm import chat_model, render
from bot.redact import redact
from bot.settings import Settings
from bot.triage.evidence import Evidence
from prompts import load as load_prompt

log = structlog.get_logger(__name__)

MAX_EVIDENCE_CHARS = 6000
MAX_RESULT_CHARS = 1200  # one raw tool result, after the summarised lines
MAX_FIELD_CHARS = 600  # one field of the answer, as the card shows it
MAX_ANSWER_TOKENS = 800
_DELIMITER = re.compile(r"</?\s*evidence\s*>", re.IGNORECASE)
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)


class Reply(BaseModel):
    """What the model must answer: every key required, confidence a number in 0..1."""

    summary: str = Field(min_length=1)
    root_cause: str = Field(min_length=1)
    confidence: float = Field(ge=0, le=1)
    impact: str
    fix: str
    prevention: str


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}\n[cut: {len(text) - limit} more characters not shown]"


def evidence_text(alert: Alert, ev: Evidence, limit: int = MAX_EVIDENCE_CHARS) -> str:
    """The alert and the evidence as the model reads them: redacted first (so a cut never splits a secret
    out of its pattern), then capped, and wrapped in <evidence> delimiters the data cannot close."""
    parts = [f"alert: {alert.name} ({alert.status}, severity {alert.severity}, from {alert.source})",
             "labels: " + ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))]
    parts += [f"{k}: {v}" for k, v in sorted(alert.annotations.items())]
    if alert.expr:
        parts.append(f"expr: {alert.expr}")
    if alert.starts_at:
        parts.append(f"started: {alert.starts_at.isoformat()}")
    parts.append("\nfindings (check: finding):")
    parts += [f"- [{line.status}] {line.check}: {line.text}" for line in ev.lines] or ["- none"]
    if ev.could_not_run:
        parts.append("\ncould not run:")
        parts += [f"- {x}" for x in ev.could_not_run]
    if ev.results:
        parts.append("\nraw results (JSON, each possibly cut):")
        parts += [_cut(render(r), MAX_RESULT_CHARS) for r in ev.results]
    body = _DELIMITER.sub("(evidence)", _cut(redact("\n".join(parts)), limit))
    return f"<evidence>\n{body}\n</evidence>"


def _json_object(text: str) -> str:
    """The JSON object in the answer: code fences, a thinking preamble or a sentence around it are dropped."""
    text = _THINKING.sub("", text)
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start < end else text


def parse(text: str) -> tuple[Analysis | None, str | None]:
    """(analysis, None) for a valid answer, else (None, why): the reason is for the log, not the chat."""
    try:
        reply = Reply.model_validate_json(_json_object(text))
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'answer'}: {err['msg']}" for err in e.errors())
        return None, f"invalid answer: {problems}"[:500]
    fields = reply.model_dump()
    for key in ("summary", "root_cause", "impact", "fix", "prevention"):
        fields[key] = _cut(redact(fields[key].strip()), MAX_FIELD_CHARS)
    return Analysis(**fields), None


def _content(content: str | list[str | dict[str, object]]) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)


class ModelAnalyser:
    """`analyse(alert, evidence) -> Analysis | None` for Triage, on any OpenAI-compatible chat model."""

    def __init__(self, llm: BaseChatModel, max_chars: int = MAX_EVIDENCE_CHARS,
                 max_tokens: int = MAX_ANSWER_TOKENS):
        self.llm = llm.bind(response_format={"type": "json_object"}, max_tokens=max_tokens)
        self.max_chars = max_chars

    def __call__(self, alert: Alert, ev: Evidence) -> Analysis | None:
        messages = [SystemMessage(load_prompt("triage")), HumanMessage(evidence_text(alert, ev, self.max_chars))]
        try:
            answer = self.llm.invoke(messages)
        except Exception as e:  # remote and fallible: the card keeps its evidence, the log gets the type
            log.warning("analysis_model_failed", alert=alert.name, error_type=type(e).__name__,
                        error=redact(str(e))[:300])
            return None
        text = _content(answer.content)
        analysis, why = parse(text)
        if analysis is None:
            log.warning("analysis_invalid", alert=alert.name, reason=why,
                        answer=redact(text)[:200])
        return analysis


def make_analyser(settings: Settings) -> ModelAnalyser | None:
    """The analyser on the configured model; None when no model is configured (the card goes without).
    The client gives up after `intake.analyse_late_s`, so an abandoned call does not hold a thread for ever."""
    timeout = max(settings.intake.analyse_late_s, settings.intake.analyse_timeout_s)
    llm = chat_model(settings.llm.model_copy(update={"timeout_s": timeout}))
    return ModelAnalyser(llm) if llm is not None else None
