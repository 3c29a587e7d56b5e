"""Input tokens of the first model call of an investigation (tiktoken o200k_base), split into system, user
and tools: the system prompt, a typical question, and the schema of every tool in the catalog as
ChatOpenAI.bind_tools serialises it (convert_to_openai_tool on the agent's own StructuredTools).

    python -m bench.prompt_tokens            # budget: 3,900 tokens
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.utils.function_calling import convert_to_openai_tool  # noqa: E402

from bench.o200k import encoding  # noqa: E402
from prompts import load as load_prompt  # noqa: E402
from tools.base import Tool  # noqa: E402
from tools.catalog import all_tools  # noqa: E402

BUDGET = 3900
QUESTION = "@opsbot why is checkout in the shop namespace throwing 500s since 10:00? what should we do?"
# Per-message framing of the chat format (role markers), as OpenAI's cookbook counts it.
PER_MESSAGE, PER_REPLY = 3, 3


@dataclass
class Count:
    system: int
    user: int
    tools: int
    per_tool: dict[str, int]

    @property
    def total(self) -> int:
        return self.system + self.user + self.tools


def tool_schemas(tools: list[Tool]) -> list[dict]:
    from bot.chat.agent import door_tool

    # The agent's own StructuredTools; no door is needed to read their schemas.
    return [convert_to_openai_tool(door_tool(t, None)) for t in tools]  # type: ignore[arg-type]


def count(tools: list[Tool] | None = None, question: str = QUESTION) -> Count:
    enc = encoding()
    schemas = tool_schemas(all_tools() if tools is None else tools)
    per_tool = {s["function"]["name"]: len(enc.encode(json.dumps(s))) for s in schemas}
    return Count(system=len(enc.encode(load_prompt("system"))) + PER_MESSAGE,
                 user=len(enc.encode(question)) + PER_MESSAGE + PER_REPLY,
                 tools=len(enc.encode(json.dumps(schemas))), per_tool=per_tool)


def main() -> int:
    c = count()
    print(f"first model call of an investigation, tiktoken o200k_base ({len(c.per_tool)} tools offered)")
    for name, n in sorted(c.per_tool.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<24} {n:>5}")
    print(f"system {c.system:>5}\nuser   {c.user:>5}\ntools  {c.tools:>5}\ntotal  {c.total:>5}  (budget {BUDGET})")
    return 0 if c.total <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
