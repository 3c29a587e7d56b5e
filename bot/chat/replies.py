"""A model's reply, sorted before anything runs: the tool calls that run, and the rest in words.

Real small models write ten calls in one reply, are cut off at `max_tokens` in the middle of the last one,
call tools that do not exist, fill optional arguments with "" and print a call as text instead of making
it. `sort_reply` turns one reply into:
- `run`: calls of tools offered for this model call, with parsed arguments (empty and null values dropped), at
  most `limit`, none repeated within the question; only these go back to the server as the assistant's tool calls;
- `unknown`: calls of tools that do not exist: the door refuses them (so they are audited) and the model
  reads the refusal in words;
- `unoffered`: the names of known tools called although not offered for this model call (a call written as
  text included): refused like the next, never run or proposed, and the person is told;
- `refused`: calls cut off or not JSON, calls not offered, calls past the limit, repeats: audited by the caller through
  `Door.refuse`, told to the model in words, never sent back as calls (a server that parses its own
  history fails on them);
- `text`: the reply's words, with any call written as text taken out (a call is never shown as an answer).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from bot import messages

MAX_RAW = 200  # characters of a refused call kept for the model and the audit
_FENCE = re.compile(r"```(?:json|tool_call)?\s*(.*?)(?:```|$)", re.DOTALL)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)(?:</tool_call>|$)", re.DOTALL)


@dataclass
class Refused:
    name: str
    raw: str
    why: str


@dataclass
class Sorted:
    text: str = ""
    run: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    unoffered: list[str] = field(default_factory=list)

    @property
    def asked_for_tools(self) -> bool:
        return bool(self.run or self.unknown or self.refused)

    def problems(self) -> str | None:
        """What happened to the calls that did not run, for the model to read."""
        if not self.refused:
            return None
        return "opsbot: these calls did not run: " + "; ".join(
            f"{r.name or '(no name)'} {r.raw[:80]}: {r.why}" for r in self.refused)


def content_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)


def _call_of(obj: Any) -> dict[str, Any] | None:
    """{"name", "args"} from {"name": …, "arguments"|"parameters": {…}}, the shapes models print."""
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return None
    return {"name": obj["name"], "args": args} if isinstance(args, dict) else None


def text_calls(text: str) -> tuple[str, list[dict[str, Any]], list[Refused]]:
    """Calls written as text (```json fences, <tool_call> tags, or the whole reply as one JSON object):
    (the text without them, the calls, the ones that look like calls but do not parse)."""
    calls: list[dict[str, Any]] = []
    broken: list[Refused] = []

    def take(body: str) -> bool:
        """Whether the body is (or tried to be) a call; a call is kept, a broken one refused."""
        body = body.strip()
        if '"name"' not in body:
            return False
        try:
            call = _call_of(json.loads(body))
        except ValueError:
            call = None
        if call is None:
            broken.append(Refused(_name_in(body), body[:MAX_RAW], "cut off or not valid JSON"))
        else:
            calls.append(call)
        return True

    def sub(match: re.Match[str]) -> str:
        return "" if take(match.group(1)) else match.group(0)

    rest = _TAGGED.sub(sub, _FENCE.sub(sub, text)).strip()
    if rest.startswith("{") and take(rest):
        rest = ""
    return rest, calls, broken


def _name_in(body: str) -> str:
    m = re.search(r'"name"\s*:\s*"([^"]{1,80})"', body)
    return m.group(1) if m else ""


def _clean(args: dict[str, Any]) -> dict[str, Any]:
    """Optional arguments a model filled with "" or null are arguments it did not mean to give."""
    return {k: v for k, v in args.items() if v is not None and v != ""}


def call_key(name: str, args: dict[str, Any]) -> str:
    return name + json.dumps(args, sort_keys=True, default=str)


def sort_reply(message: AIMessage, known: set[str], offered: set[str], limit: int, seen: set[str]) -> Sorted:
    """See the module doc. `offered`: the tools this model call was offered; `seen` holds the keys of calls
    already made for this question; it is updated."""
    text, written, broken = text_calls(content_text(message))
    out = Sorted(text=text, refused=broken)
    for bad in message.invalid_tool_calls:
        raw = str(bad.get("args") or "")
        out.refused.append(Refused(str(bad.get("name") or ""), raw[:MAX_RAW],
                                   "its arguments were cut off or are not valid JSON; make fewer, shorter calls"))
    calls = [{"name": c["name"], "args": c["args"], "id": c.get("id")} for c in message.tool_calls] or \
            [{**c, "id": None} for c in written]
    for i, c in enumerate(calls):
        c["id"] = c["id"] or f"opsbot-{len(seen)}-{i}"
        c["args"] = _clean(c["args"])
        if c["name"] not in known:
            out.unknown.append(c)
            continue
        if c["name"] not in offered:
            out.unoffered.append(c["name"])
            out.refused.append(Refused(c["name"], json.dumps(c["args"])[:MAX_RAW], messages.NOT_OFFERED_WHY))
            continue
        key = call_key(c["name"], c["args"])
        if key in seen:
            out.refused.append(Refused(c["name"], json.dumps(c["args"])[:MAX_RAW],
                                       "already called with exactly these arguments; its result is above"))
        elif len(out.run) >= limit:
            out.refused.append(Refused(c["name"], json.dumps(c["args"])[:MAX_RAW],
                                       f"at most {limit} calls run per reply; ask again if it is still needed"))
        else:
            seen.add(key)
            out.run.append(c)
    return out


def without_echo(text: str, sent: list[str]) -> str:
    """The reply without a copy of what it was sent: small models start a reply by repeating the question and
    its evidence (hundreds of tokens) before saying anything of their own."""
    for message in sent:
        head = message.strip()[:40]
        if len(head) < 20 or not text.startswith(head):
            continue
        common = len(os.path.commonprefix([text, message.strip()]))
        rest = text[common:]
        if "</evidence>" in rest and "</evidence>" in message:
            rest = rest.split("</evidence>", 1)[1]
        return rest.strip()
    return text
