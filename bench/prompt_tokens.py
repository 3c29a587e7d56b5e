"""Input tokens of the first model call of a question, for a few typical questions: the system prompt, the
tools that question is offered (bot.chat.agent.offered), the question, and its evidence block at its cap
(bot.chat.briefing.MAX_MODEL_CHARS characters, the past incidents' lines included; a real one is often shorter). Counted with tiktoken's
o200k_base; `--server URL` also sends each first call to an OpenAI-compatible server (max 1 token) and
prints the prompt tokens it counted (a Qwen tokenizer counts more than o200k for JSON schemas).

    python -m bench.prompt_tokens [--server http://127.0.0.1:8080/v1]      # budget: 4,000 tokens
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.o200k import encoding  # noqa: E402
from bot.chat.agent import offered  # noqa: E402
from bot.chat.briefing import MAX_MODEL_CHARS  # noqa: E402
from prompts import load as load_prompt  # noqa: E402
from tools.catalog import tool_map  # noqa: E402

BUDGET = 4000
QUESTIONS = ["why is checkout failing?", "What is broken right now, and why?",
             "restart the cart deployment in shop", "show me the newest log lines of payments-api"]
# A stand-in evidence block at its cap: what the model reads besides the question.
EVIDENCE = "<evidence>\n" + ("- [ok] k8s_describe Pod shop/checkout-5d8f-x2: CrashLoopBackOff, last exit 1 "
                             "(Error: config error)\n" * 40)[:MAX_MODEL_CHARS] + "\n</evidence>"
PER_MESSAGE = 3  # role markers per message, as OpenAI's cookbook counts them


def first_call(question: str) -> dict:
    return {"messages": [{"role": "system", "content": load_prompt("system")},
                         {"role": "user", "content": f"{question}\n\n{EVIDENCE}"}],
            "tools": offered(tool_map(), question)}


def count(question: str) -> dict[str, int]:
    enc = encoding()
    body = first_call(question)
    return {"system": len(enc.encode(body["messages"][0]["content"])) + PER_MESSAGE,
            "user": len(enc.encode(body["messages"][1]["content"])) + PER_MESSAGE,
            "tools": len(enc.encode(json.dumps(body["tools"]))), "offered": len(body["tools"])}


def served(url: str, question: str) -> int:
    body = {**first_call(question), "model": "any", "max_tokens": 1}
    r = httpx.post(f"{url.rstrip('/')}/chat/completions", json=body, timeout=600)
    r.raise_for_status()
    return int(r.json()["usage"]["prompt_tokens"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", help="an OpenAI-compatible base URL to count on as well")
    args = ap.parse_args()
    worst = 0
    print(f"{'question':<48} {'tools':>5} {'system':>7} {'user':>6} {'schemas':>8} {'total':>6}"
          + ("  server" if args.server else ""))
    for q in QUESTIONS:
        c = count(q)
        total = c["system"] + c["user"] + c["tools"]
        worst = max(worst, total)
        extra = f"  {served(args.server, q):>6}" if args.server else ""
        print(f"{q:<48} {c['offered']:>5} {c['system']:>7} {c['user']:>6} {c['tools']:>8} {total:>6}{extra}")
    print(f"largest first call {worst} tokens (o200k_base; budget {BUDGET})")
    return 0 if worst <= BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
