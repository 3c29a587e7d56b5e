"""opsbot as an MCP server: its tools to IDE and desktop assistants, every call through the door as its caller."""
