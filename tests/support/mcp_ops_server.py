"""A small MCP server for the tests of opsbot as an MCP client (stdio, the official SDK's MCPServer).

`python mcp_ops_server.py DONE_FILE`: `lookup` reads (its answer carries a token, which opsbot must mask),
`restart` changes something (each call appends its name to DONE_FILE), `notes` and `wipe` are tools opsbot's
settings or policy leave out."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

TOKEN = "ghp_" + "a1B2" * 9
server = MCPServer("ops-test")


@server.tool()
def lookup(service: str) -> str:
    """Who owns a service, and the deploy token of its pipeline."""
    return f"service {service}: owned by team-payments; pipeline token {TOKEN}"


@server.tool()
def restart(name: str) -> str:
    """Restart a thing by name."""
    with Path(sys.argv[1]).open("a") as done:
        done.write(f"{name}\n")
    return f"restarted {name}"


@server.tool()
def notes() -> str:
    """Free text notes (the policy does not list this tool)."""
    return "notes"


@server.tool()
def wipe() -> str:
    """Wipe everything (no allow-list names this tool)."""
    Path(sys.argv[1]).write_text("wiped\n")
    return "wiped"


if __name__ == "__main__":
    server.run()
