"""Running one tool function and turning every failure into a result: who must act decides the wording."""

from __future__ import annotations

from typing import Any

import structlog

from tools.base import Args, BackendError, Status, Tool, ToolInputError, ToolResult
from tools.context import ToolContext

log = structlog.get_logger(__name__)


def invoke(t: Tool, ctx: ToolContext, args: Args, who: str) -> ToolResult:
    invocation = t.summary(args)
    try:
        return t.fn(ctx, args)
    except (ToolInputError, BackendError) as e:
        return ToolResult(tool=t.name, status=Status.error, invocation=invocation, error=str(e))
    except Exception:
        log.exception("tool_crashed", tool=t.name, caller=who)
        return ToolResult(tool=t.name, status=Status.error, invocation=invocation,
                          error=f"{t.name} failed unexpectedly; the details are in opsbot's log")


def error(name: str, message: str, invocation: str | None = None, data: Any = None) -> ToolResult:
    return ToolResult(tool=name, status=Status.error, invocation=invocation or name, error=message, data=data)
