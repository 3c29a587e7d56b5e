"""opsbot as an MCP client: the tools of the servers in `mcp.servers` join the door's toolset as NAME_TOOL.

Only what both the settings' allow-list and the policy name joins, at the same tier: T0 is a read; any other
tier makes a mutating tool (a preview, so the gate decides) and joins only when no policy rule allows its tier
outright, so a change runs only after an approval. Arguments are checked against the server's schema
(remote_args.py); the door masks, caps and audits the results like any tool's. A server that cannot be reached
at start-up is logged and its tools are missing (a call is then refused by the door as an unknown tool).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import structlog

from bot.mcp.remote_args import args_model
from bot.redact import redact, redact_data
from bot.settings import McpServer, Settings
from policies.engine import PolicyEngine
from tools.base import Args, BackendError, Preview, Status, Tool, ToolResult
from tools.context import ToolContext

log = structlog.get_logger(__name__)
T = TypeVar("T")
DESCRIPTION_CHARS = 400


def _client(server: McpServer) -> Any:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    if server.command:
        env = {k: v.get_secret_value() for k, v in server.env.items()}
        return Client(StdioServerParameters(command=server.command[0], args=server.command[1:], env=env),
                      read_timeout_seconds=server.timeout_s)
    headers = {"Authorization": f"Bearer {server.token.get_secret_value()}"} if server.token else None
    assert server.url is not None
    return Client(streamable_http_client(server.url, http_client=create_mcp_http_client(headers=headers)),
                  read_timeout_seconds=server.timeout_s)


def _where(server: McpServer) -> str:
    return server.url or " ".join(server.command or [])


def _sync(server: McpServer, asked: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(client)` on a fresh event loop in a thread of its own (callers may be inside one), bounded."""
    async def run() -> T:
        with anyio.fail_after(server.timeout_s):
            async with _client(server) as client:
                return await work(client)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(anyio.run, run).result()
        except TimeoutError:
            raise BackendError("mcp", _where(server), asked, f"no answer within {server.timeout_s:g} s") from None
        except Exception as e:  # the SDK's and the transport's errors: which server, what was asked, why
            raise BackendError("mcp", _where(server), asked, f"{type(e).__name__}: {str(e)[:200]}") from None


def _result(name: str, invocation: str, answer: Any) -> ToolResult:
    texts = [c.text for c in answer.content if getattr(c, "type", None) == "text"]
    if answer.is_error:
        return ToolResult(tool=name, status=Status.error, invocation=invocation, error=" ".join(texts)[:1000])
    data: dict[str, Any] = {"content": texts}
    if answer.structured_content is not None:
        data["structured"] = answer.structured_content
    return ToolResult(tool=name, status=Status.success, invocation=invocation, data=data)


def _tool(server: McpServer, remote: Any, tier: str) -> Tool:
    name = f"{server.name}_{remote.name}"

    def call(ctx: ToolContext, args: Args) -> ToolResult:
        raw = args.model_dump(mode="json")
        answer = _sync(server, f"tool {remote.name}", lambda c: c.call_tool(remote.name, raw))
        return _result(name, joined.summary(args), answer)

    def preview(ctx: ToolContext, args: Args) -> Preview:
        raw = args.model_dump(mode="json")
        return Preview(target=f"{server.name}/{remote.name}", namespace=str(raw.get("namespace") or server.name),
                       summary=redact(f"{server.name}: {joined.summary(args)}"), proposed=redact_data(raw))

    # the server's own words, read by the model: masked, bounded, and said to be the server's
    said = " ".join(redact(remote.description or remote.name).split())[:DESCRIPTION_CHARS]
    description = f"{said} (a tool of MCP server {server.name}, tier {tier})"
    joined = Tool(name, description, args_model(name, dict(remote.input_schema)), call, "mcp",
                  preview if tier != "T0" else None)
    return joined


def refusal(server: McpServer, tool: str, tier: str, engine: PolicyEngine) -> str | None:
    """Why an allowed tool does not join (the policy does not list it at its tier, or would run it unapproved)."""
    name = f"{server.name}_{tool}"
    listed = engine.policy.tools.get(name)
    if listed is None:
        return f"the policy does not list {name}"
    if listed != tier:
        return f"the policy lists {name} as {listed}, mcp.servers as {tier}"
    if tier != "T0" and any(r.decide == "allow" and not r.earned and (r.when.tier is None or tier in r.when.tier)
                            for r in engine.policy.rules):  # a track record's rule never allows an MCP call
        return f"a policy rule allows {tier} without an approval"
    return None


def remote_tools(settings: Settings, engine: PolicyEngine) -> list[Tool]:
    """The tools of every configured server that may join (each refusal logged)."""
    joined: list[Tool] = []
    for server in settings.mcp.servers:
        try:
            offered = _sync(server, "its tools", lambda c: c.list_tools()).tools
        except BackendError as e:
            log.warning("mcp_server_unreachable", server=server.name, error=str(e))
            continue
        by_name = {t.name: t for t in offered}
        for tool, tier in server.tools.items():
            why = refusal(server, tool, tier, engine) if tool in by_name else f"{server.name} has no tool {tool}"
            if why:
                log.warning("mcp_tool_left_out", server=server.name, tool=tool, why=why)
                continue
            joined.append(_tool(server, by_name[tool], tier))
    return joined
