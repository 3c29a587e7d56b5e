"""`opsbot mcp`: the MCP server (the official SDK's low-level Server) over stdio or streamable HTTP.

Every call runs through a door of the caller's own (the backend tools and bot/mcp/views.py) as
Caller(identity, via="mcp"): validated, masked, capped and audited as chat's calls are. A mutating tool reaches
the gate like a chat request: the policy refuses it, or it becomes a pending action whose card (chat's own
action card) is posted to the chat platforms for an approver; no tool here approves or denies.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import structlog
from mcp.server.lowlevel import Server

from bot import messages
from bot.cli.common import me, result_lines
from bot.guard.door import Caller, Door
from bot.mcp.auth import identity_of
from bot.mcp.views import views
from bot.settings import Settings
from bot.wiring import build_door, redis_client
from tools.base import Status, ToolResult

log = structlog.get_logger(__name__)
FAILED = (Status.error, Status.denied)


class OpsbotMcp:
    """The tools offered to MCP clients and how one call runs; `http`: the caller must come from a bearer token."""

    def __init__(self, settings: Settings, http: bool, door: Door | None = None):
        self.settings, self.http = settings, http
        self.door = door or build_door(settings)
        self.local = settings.mcp.identity or me(settings)  # stdio: whoever started it

    def door_for(self, caller: Caller) -> Door:
        """The door with the views bound to `caller` beside every backend tool; the same audit, policy, approvals."""
        d = self.door
        return Door([*d.tools.values(), *views(d, self.settings, caller)], d.ctx, d.audit, d.gate.engine, d.gate.store)

    def caller(self, request: Any) -> Caller | None:
        identity = identity_of(request) if self.http else self.local
        return Caller(identity=identity, via="mcp") if identity else None

    def list_tools(self) -> list[types.Tool]:
        from bot.chat.tool_schema import model_schema

        offered = self.door_for(Caller(identity=self.local, via="mcp")).tools.values()
        hide = () if len(self.settings.kubernetes.clusters) > 1 else ("cluster",)  # as the model is shown them
        return [types.Tool(name=t.name, description=t.description + (_MUTATES if t.mutates else ""),
                           input_schema=model_schema(t.args, hide)) for t in offered]

    def call(self, name: str, args: dict[str, Any], caller: Caller) -> types.CallToolResult:
        result = self.door_for(caller).run(name, args, caller)
        text = _text(result)
        if result.status == Status.approval_required and isinstance(result.data, dict):
            text += "\n" + messages.MCP_PENDING.format(action_id=result.data["action_id"],
                                                      where=self.announce(result.data["action_id"]))
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content=result.model_dump(mode="json"),
                                    is_error=result.status in FAILED)

    def announce(self, action_id: str) -> str:
        """Post the pending action's card (chat's own) to every configured chat platform; where it went, in words."""
        from bot.cards.poster import Publisher
        from bot.cards.store import CardStore
        from bot.chat.conversation import action_card
        from bot.chat.frontends.posters import chat_posters

        try:
            posters = chat_posters(self.settings)
            action = self.door.gate.store.get(action_id)
            if not posters or action is None:
                return messages.MCP_NO_CHAT.format(action_id=action_id)
            store = CardStore(redis_client(self.settings), self.settings.redis.key_prefix)
            Publisher(store, posters).publish(action_card(action))
        except Exception as e:  # a platform or Redis failed: the action still waits, the caller is told
            log.warning("mcp_card_not_posted", action=action_id, error=f"{type(e).__name__}: {e}"[:300])
            return messages.MCP_CARD_FAILED.format(error=type(e).__name__, action_id=action_id)
        return messages.MCP_CARD_POSTED.format(platforms=" and ".join(p.platform for p in posters))

    def server(self) -> Server[Any]:
        async def on_list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
            return types.ListToolsResult(tools=self.list_tools())

        async def on_call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
            caller = self.caller(ctx.request)
            if caller is None:  # the bearer middleware answers 401 before this; never run as no one
                return _refused("no identity: send a bearer token listed in mcp.tokens")
            return await anyio.to_thread.run_sync(self.call, params.name, dict(params.arguments or {}), caller)

        return Server("opsbot", version="0.1.0", instructions=_INSTRUCTIONS, on_list_tools=on_list_tools,
                      on_call_tool=on_call_tool)


_MUTATES = ("\n\nChanges the cluster: the policy decides; at most it becomes a pending action that someone the "
            "policy allows approves in chat. Nothing over MCP can approve.")
_INSTRUCTIONS = ("opsbot's guarded on-call tools. Reads run as you; a change becomes a pending action approved in "
                 "chat by someone the policy allows. Results are masked and capped: narrow a query when told.")


def _text(result: ToolResult) -> str:
    """The result as `opsbot tool` prints it; a view's lines as they are."""
    data = result.data
    if isinstance(data, dict) and list(data) == ["lines"] and result.status == Status.success:
        head = result_lines(result.model_copy(update={"data": None}))
        return head + "\n" + "\n".join(str(line) for line in data["lines"])
    return result_lines(result)


def _refused(why: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=why)], is_error=True)
