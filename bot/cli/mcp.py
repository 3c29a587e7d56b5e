"""`opsbot mcp`: opsbot's tools to MCP clients over stdio, or streamable HTTP with `--http` (docs/mcp.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot import messages
from bot.cli import common
from bot.cli.common import ConfigOpt, fail


def mcp_cmd(
    http: Annotated[bool, typer.Option("--http", help="streamable HTTP at /mcp with bearer tokens (mcp.tokens) "
                                       "instead of stdio")] = False,
    host: Annotated[str | None, typer.Option(help="HTTP address (default: mcp.host)")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default: mcp.port)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve opsbot's tools to MCP clients (IDE and desktop assistants) over stdio, or streamable HTTP with --http;
    every call runs through the door as its caller, and a change waits for approval in chat."""
    from bot.mcp.server import OpsbotMcp
    from bot.mcp.transports import serve_http, serve_stdio

    s = common.settings(config)
    if http and not s.mcp.tokens:
        fail(messages.MCP_NO_TOKENS)
    app = OpsbotMcp(s, http=http)
    if http:
        serve_http(app, host or s.mcp.host, port or s.mcp.port)
    else:
        serve_stdio(app)
