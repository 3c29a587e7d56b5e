"""A scripted chat model for agent tests: it plays back AIMessages (or functions of what it was sent) and
keeps every message list it received, so a test can check what reached the model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

Step = AIMessage | str | Callable[[list[BaseMessage]], AIMessage]


class ScriptedModel(GenericFakeChatModel):
    script: list[Any] = Field(default_factory=list)
    received: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[list[str]] = Field(default_factory=list)

    def __init__(self, script: Sequence[Step], **kw: Any):
        super().__init__(messages=iter(()), script=list(script), **kw)

    def bind_tools(self, tools: Sequence[Any], **kw: Any) -> ScriptedModel:  # type: ignore[override]
        self.bound_tools.append([getattr(t, "name", None) or t["function"]["name"] for t in tools])
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kw: Any) -> ChatResult:
        self.received.append(list(messages))
        if not self.script:
            raise AssertionError("the scripted model was called more often than scripted")
        step = self.script.pop(0)
        message = step(messages) if callable(step) else AIMessage(step) if isinstance(step, str) else step
        return ChatResult(generations=[ChatGeneration(message=message)])

    def tool_messages(self) -> list[ToolMessage]:
        """Every tool message in the last list the model received."""
        return [m for m in self.received[-1] if isinstance(m, ToolMessage)] if self.received else []


def call(name: str, call_id: str = "c1", **args: Any) -> AIMessage:
    """A model turn that asks for one tool call."""
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])
