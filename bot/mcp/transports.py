"""The two ways an MCP client reaches opsbot: stdio (a local assistant starts `opsbot mcp`), and streamable HTTP
at /mcp, where the SDK's bearer middleware admits only the tokens of `mcp.tokens` (anything else: 401)."""

from __future__ import annotations

import anyio
from mcp.server.auth.settings import AuthSettings
from mcp.server.stdio import stdio_server
from starlette.applications import Starlette

from bot.mcp.auth import Tokens
from bot.mcp.server import OpsbotMcp

PATH = "/mcp"


def serve_stdio(app: OpsbotMcp) -> None:
    server = app.server()

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)


def http_app(app: OpsbotMcp, host: str, port: int) -> Starlette:
    """The streamable HTTP app; the issuer URL is required by the SDK's settings but names no authorization server
    here (the tokens are opsbot's own, so no OAuth metadata is published)."""
    auth = AuthSettings(issuer_url=f"http://{host}:{port}", resource_server_url=None)
    return app.server().streamable_http_app(streamable_http_path=PATH, host=host, auth=auth,
                                            token_verifier=Tokens(app.settings.mcp.tokens))


def serve_http(app: OpsbotMcp, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(http_app(app, host, port), host=host, port=port, log_level="warning")
