"""The configured chat model, and the one form in which the model reads a tool result (agent and triage alike)."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel

from bot import messages
from bot.redact import redact, redact_data
from bot.settings import LLMSettings
from tools.base import Status, ToolResult


def chat_model(llm: LLMSettings) -> BaseChatModel | None:
    """ChatOpenAI on the configured OpenAI-compatible endpoint; None when no model is configured."""
    if not llm.model:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=llm.model,
        base_url=llm.base_url,
        # Always explicit, so the client never falls back to OPENAI_API_KEY from the environment; local
        # servers (llama.cpp, Ollama, vLLM) accept any key.
        api_key=llm.api_key.get_secret_value() if llm.api_key else "unused",
        timeout=llm.timeout_s,
        max_retries=0,  # the agent retries within its deadline; the client's own would multiply timeouts
        temperature=llm.temperature,
        use_responses_api=False,  # chat.completions: what every OpenAI-compatible server speaks
    )


def render(result: ToolResult) -> str:
    """Compact, redacted JSON of a tool result; a pending approval says plainly that nothing changed."""
    out: dict[str, Any] = {"status": result.status.value, "invocation": result.invocation}
    if result.status == Status.approval_required and isinstance(result.data, dict):
        preview = result.data.get("preview") or {}
        out["notice"] = messages.PENDING_APPROVAL.format(action_id=result.data.get("action_id"),
                                                         summary=preview.get("summary", result.invocation))
        out["data"] = {k: result.data.get(k) for k in ("action_id", "reason", "approvers", "expires_at")}
    else:
        if result.data is not None:
            out["data"] = result.data
        if result.notice:
            out["notice"] = result.notice
    if result.error:
        out["error"] = result.error
    if result.truncated:
        out["truncated"] = True
    return redact(json.dumps(redact_data(out), separators=(",", ":"), ensure_ascii=False, default=str))
